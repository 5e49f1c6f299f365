// Copy and paste of nodes and notes. Pasted nodes get fresh readable ids, and references among
// them follow, so a pasted chain stays wired; references to nodes left behind are kept as written.
import type { FlowDocument } from "../../ipc/generated/FlowDocument";
import type { Node as FlowNode } from "../../ipc/generated/Node";
import type { Note } from "../../ipc/generated/Note";
import { isFlowPort } from "./catalog";
import { NOTE_PREFIX } from "./graph";
import { mapStrings, renameReferences, uniqueId } from "./references";

export type Clipboard = { weft: "nodes"; nodes: FlowNode[]; notes: Note[] };

/** The selected nodes and notes (by canvas id), ready to paste anywhere, even in another flow. */
export function copyOf(doc: FlowDocument, canvasIds: ReadonlySet<string>): Clipboard {
  return {
    weft: "nodes",
    nodes: doc.nodes.filter((n) => canvasIds.has(n.id)),
    notes: (doc.notes ?? []).filter((n) => canvasIds.has(NOTE_PREFIX + n.id)),
  };
}

export function parseClipboard(text: string): Clipboard | null {
  try {
    const value = JSON.parse(text) as Partial<Clipboard>;
    if (value?.weft === "nodes" && Array.isArray(value.nodes)) return { weft: "nodes", nodes: value.nodes, notes: value.notes ?? [] };
  } catch {
    // Not ours: the system clipboard holds someone else's text.
  }
  return null;
}

/** Adds the clipboard's nodes, moved by `offset`; returns the canvas ids of what was added. */
export function pasteInto(doc: FlowDocument, clip: Clipboard, offset: { x: number; y: number }): { document: FlowDocument; ids: string[] } {
  const taken = new Set(doc.nodes.map((n) => n.id));
  const renamed = new Map<string, string>();
  // One node of each flow port per flow: they stand for the flow's own inputs and outputs.
  const nodes = clip.nodes.filter((n) => !(isFlowPort(n.type) && doc.nodes.some((m) => m.type === n.type)));
  for (const node of nodes) {
    const id = uniqueId(node.id, taken);
    taken.add(id);
    renamed.set(node.id, id);
  }
  const rename = (id: string) => renamed.get(id);
  const pasted = nodes.map((node) => {
    const moved: FlowNode = { ...node, id: renamed.get(node.id)!, position: { x: node.position.x + offset.x, y: node.position.y + offset.y } };
    return node.properties ? { ...moved, properties: mapStrings(node.properties, (text) => renameReferences(text, rename)) } : moved;
  });
  const noteIds = new Set((doc.notes ?? []).map((n) => n.id));
  const notes = clip.notes.map((note) => {
    const id = uniqueId(note.id, noteIds);
    noteIds.add(id);
    return { ...note, id, position: { x: note.position.x + offset.x, y: note.position.y + offset.y } };
  });
  const document: FlowDocument = { ...doc, nodes: [...doc.nodes, ...pasted], ...(notes.length ? { notes: [...(doc.notes ?? []), ...notes] } : {}) };
  return { document, ids: [...pasted.map((n) => n.id), ...notes.map((n) => NOTE_PREFIX + n.id)] };
}
