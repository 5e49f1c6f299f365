// The React Flow nodes and wires derived from a FlowDocument. Each keeps the objects of unchanged
// nodes and the wire array when no wire changed, so an edit redraws only what it touched.
import type { FlowDocument } from "../../ipc/generated/FlowDocument";
import {
  type CanvasNode,
  NOTE_PREFIX,
  type ShowAll,
  type Wire,
  documentEdges,
  flowPorts,
  isDomMeasured,
  isNoteNode,
  measuredNode,
  toCanvasNode,
  toNoteNode,
} from "./graph";

/** `next` in place of `prev`: its selection, and the DOM's size once the DOM has overruled the estimate. */
function keep(next: CanvasNode, prev: CanvasNode | undefined, selected?: ReadonlySet<string>): CanvasNode {
  const isSelected = selected ? selected.has(next.id) : (prev?.selected ?? false);
  // Once the DOM has overruled the estimate, its size stands until it measures a new one.
  if (prev && prev.measured && isDomMeasured(prev)) return { ...measuredNode(next), measured: prev.measured, selected: isSelected };
  return isSelected ? { ...next, selected: true } : next;
}

/** React Flow nodes for `doc`, reusing each node of `previous` whose document node is unchanged. */
export function syncNodes(previous: CanvasNode[], doc: FlowDocument, selected?: ReadonlySet<string>): CanvasNode[] {
  const before = new Map(previous.map((n) => [n.id, n]));
  const nodes: CanvasNode[] = doc.nodes.map((node) => {
    const prev = before.get(node.id);
    const ports = flowPorts(node, doc);
    if (prev && !isNoteNode(prev) && prev.data.node === node && prev.data.ports === ports && (!selected || selected.has(node.id) === !!prev.selected))
      return prev;
    return keep(toCanvasNode(node, doc, prev && !isNoteNode(prev) ? prev.data.showAll : undefined), prev, selected);
  });
  for (const note of doc.notes ?? []) {
    const prev = before.get(NOTE_PREFIX + note.id);
    if (prev && isNoteNode(prev) && prev.data.note === note && (!selected || selected.has(prev.id) === !!prev.selected)) nodes.push(prev);
    else nodes.push(keep(toNoteNode(note), prev, selected));
  }
  return nodes;
}

/** The nodes with the folded ports of `ids` shown (`showAll`) or folded again (undefined). */
export function showPorts(nodes: CanvasNode[], doc: FlowDocument, ids: ReadonlySet<string>, showAll: ShowAll | undefined): CanvasNode[] {
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  return nodes.map((prev) => {
    const node = byId.get(prev.id);
    if (!ids.has(prev.id) || isNoteNode(prev) || !node || prev.data.showAll === showAll) return prev;
    return keep(toCanvasNode(node, doc, showAll), prev);
  });
}

export function syncEdges(previous: Wire[], doc: FlowDocument): Wire[] {
  const selected = new Set(previous.filter((e) => e.selected).map((e) => e.id));
  const edges = documentEdges(doc);
  const next = selected.size ? edges.map((e) => (selected.has(e.id) ? { ...e, selected: true } : e)) : edges;
  // A wire's id says all it connects, so equal ids are the same wires. Keeping the old array when
  // an edit changed none spares React Flow rebuilding its lookup of every connection.
  const same = next.length === previous.length && next.every((e, i) => e.id === previous[i]?.id && !!e.selected === !!previous[i]?.selected);
  return same ? previous : next;
}
