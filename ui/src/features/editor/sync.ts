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

/** `prev` with only its selection changed (its card, size and handles are those of the same node). */
function reselected<N extends CanvasNode>(prev: N, isSelected: boolean): N {
  if (isSelected) return { ...prev, selected: true };
  const { selected: _was, ...rest } = prev;
  void _was;
  return rest as N;
}

/** React Flow nodes for `doc`, reusing each node of `previous` whose document node is unchanged. */
export function syncNodes(previous: CanvasNode[], doc: FlowDocument, selected?: ReadonlySet<string>): CanvasNode[] {
  // Most edits keep the nodes in their places, so the node at the same index is tried first and
  // the lookup by id is built only for an edit that moved some (this runs on every edit).
  let byId: Map<string, CanvasNode> | undefined;
  const find = (id: string, index: number) => {
    const at = previous[index];
    if (at?.id === id) return at;
    byId ??= new Map(previous.map((n) => [n.id, n]));
    return byId.get(id);
  };
  const nodes: CanvasNode[] = doc.nodes.map((node, index) => {
    const prev = find(node.id, index);
    const ports = flowPorts(node, doc);
    if (prev && !isNoteNode(prev) && prev.data.node === node && prev.data.ports === ports) {
      const isSelected = selected ? selected.has(node.id) : !!prev.selected;
      return isSelected === !!prev.selected ? prev : reselected(prev, isSelected);
    }
    return keep(toCanvasNode(node, doc, prev && !isNoteNode(prev) ? prev.data.showAll : undefined), prev, selected);
  });
  for (const [i, note] of (doc.notes ?? []).entries()) {
    const prev = find(NOTE_PREFIX + note.id, doc.nodes.length + i);
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
