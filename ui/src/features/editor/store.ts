// The flow being edited. The FlowDocument is the source of truth (it is what is saved and what
// undo restores, history.ts); the React Flow nodes and edges are derived from it (sync.ts),
// keeping the objects of unchanged nodes so an edit redraws only what it touched. State and
// actions are typed apart; `createEditorStore` makes a store, `useEditor` is the app's.
import { type Connection, type EdgeChange, type NodeChange, applyEdgeChanges, applyNodeChanges } from "@xyflow/react";
import { create } from "zustand";

import type { Diagnostic } from "../../ipc/generated/Diagnostic";
import type { FlowDocument } from "../../ipc/generated/FlowDocument";
import type { Node as FlowNode } from "../../ipc/generated/Node";
import type { Note } from "../../ipc/generated/Note";
import type { JsonValue } from "../../ipc/generated/serde_json/JsonValue";
import { idStem, isFlowPort } from "./catalog";
import { type Clipboard, copyOf, pasteInto } from "./clipboard";
import { type CanvasNode, NOTE_PREFIX, type Wire, connect, connectionProblem, disconnect, documentEdges, isNoteNode, measuredNode, removeNodes, renameNode, withProperty } from "./graph";
import { type HistoryActions, type HistoryState, createHistorySlice, emptyHistory, recordEdit } from "./history";
import { type AlignMode, alignPositions, layeredPositions } from "./layout";
import { uniqueId } from "./references";
import { showPorts, syncEdges, syncNodes } from "./sync";

export const emptyDocument = (): FlowDocument => ({
  schema: 1,
  title: "Untitled flow",
  nodes: [
    { id: "inputs", type: "inputs", position: { x: 0, y: 120 } },
    { id: "outputs", type: "outputs", position: { x: 640, y: 120 } },
  ],
});

export type ProblemCount = { errors: number; warnings: number };

function countProblems(diagnostics: Diagnostic[]): Record<string, ProblemCount> {
  const counts: Record<string, ProblemCount> = {};
  for (const d of diagnostics) {
    if (!d.node) continue;
    const count = (counts[d.node] ??= { errors: 0, warnings: 0 });
    if (d.severity === "error") count.errors += 1;
    else count.warnings += 1;
  }
  return counts;
}

export type Notice = { text: string; tone: "error" | "info"; seq: number };

export type EditorState = HistoryState & {
  document: FlowDocument;
  /** The file it came from or was saved to; null for a new or sample flow. */
  path: string | null;
  /** The document as last opened or saved: the flow is dirty when `document` is another object. */
  savedDocument: FlowDocument;
  nodes: CanvasNode[];
  edges: Wire[];
  /** The Rust validator's findings for `document` (refreshed shortly after each edit). */
  diagnostics: Diagnostic[];
  /** Error and warning counts per node id, for the badges on the canvas. */
  problemCounts: Record<string, ProblemCount>;
  /** A short message over the canvas, such as why a wire was refused. */
  notice: Notice | null;
  /** Why the wire being dragged cannot be dropped where it is, shown while dragging. */
  connectionHint: string | null;
  /** Asks the canvas to centre on a node; `seq` makes a repeat request for the same node count. */
  focusRequest: { id: string; seq: number } | null;
  /** Counts documents loaded (New, Open, sample, restore): the canvas fits each one into view. */
  loads: number;
};

export type EditorActions = HistoryActions & {
  /** Shows a document fresh from disk (or new): no history, not dirty. */
  load: (document: FlowDocument, path: string | null) => void;
  /** Shows a recovered document that still needs saving. */
  restore: (document: FlowDocument, path: string | null) => void;
  markSaved: (document: FlowDocument, path: string) => void;
  onNodesChange: (changes: NodeChange<CanvasNode>[]) => void;
  onEdgesChange: (changes: EdgeChange<Wire>[]) => void;
  onConnect: (connection: Connection) => void;
  /** Why a wire may not go there, or null; also shown over the canvas while dragging. */
  checkConnection: (connection: Connection | Wire) => string | null;
  /** A wire drag ended: cards it opened fold again. */
  endConnecting: () => void;
  /** Shows a card's folded ports, or folds them again. */
  togglePorts: (nodeId: string) => void;
  /** Shows a card's folded ports while a wire is dragged over it, so it can be dropped on one. */
  revealPorts: (nodeId: string) => void;
  deleteElements: (canvasIds: string[], edgeIds: string[]) => void;
  deleteSelection: () => void;
  addNode: (kind: string, position: { x: number; y: number }) => string;
  addNote: (position: { x: number; y: number }, text?: string) => string;
  setNoteText: (canvasId: string, text: string) => void;
  setProperty: (nodeId: string, key: string, value: JsonValue | undefined, coalesce?: boolean) => void;
  setNodeTitle: (nodeId: string, title: string) => void;
  /** Renames a node and every reference to it; returns why not, or null. */
  renameNode: (from: string, to: string) => string | null;
  /** Edits the flow's own fields (title, inputs, outputs…); `key` coalesces typing. */
  updateFlow: (update: (document: FlowDocument) => FlowDocument, key?: string) => void;
  select: (canvasIds: string[]) => void;
  focusNode: (id: string) => void;
  copySelection: () => Clipboard | null;
  cutSelection: () => Clipboard | null;
  /** Pastes with the copied group's top-left corner at `at`, or offset from the originals. */
  paste: (clip: Clipboard, at?: { x: number; y: number }) => void;
  duplicateSelection: () => void;
  align: (mode: AlignMode) => void;
  autoLayout: () => void;
  setDiagnostics: (diagnostics: Diagnostic[]) => void;
  notify: (text: string, tone?: Notice["tone"]) => void;
  dismissNotice: () => void;
};

export type Editor = EditorState & EditorActions;

function updateNode(doc: FlowDocument, id: string, update: (node: FlowNode) => FlowNode): FlowDocument {
  return { ...doc, nodes: doc.nodes.map((n) => (n.id === id ? update(n) : n)) };
}

function movedDocument(doc: FlowDocument, moved: ReadonlyMap<string, { x: number; y: number }>): FlowDocument {
  if (!moved.size) return doc;
  const same = (a: { x: number; y: number }, b: { x: number; y: number }) => a.x === b.x && a.y === b.y;
  let changed = false;
  const nodes = doc.nodes.map((n) => {
    const to = moved.get(n.id);
    if (!to || same(to, n.position)) return n;
    changed = true;
    return { ...n, position: { x: to.x, y: to.y } };
  });
  const notes = doc.notes?.map((n) => {
    const to = moved.get(NOTE_PREFIX + n.id);
    if (!to || same(to, n.position)) return n;
    changed = true;
    return { ...n, position: { x: to.x, y: to.y } };
  });
  return changed ? { ...doc, nodes, ...(notes ? { notes } : {}) } : doc;
}

const initialDocument = emptyDocument();

export const initialEditorState: EditorState = {
  document: initialDocument,
  path: null,
  savedDocument: initialDocument,
  nodes: syncNodes([], initialDocument),
  edges: [],
  ...emptyHistory,
  diagnostics: [],
  problemCounts: {},
  notice: null,
  connectionHint: null,
  focusRequest: null,
  loads: 0,
};

/** A fresh editor store: the app has one (`useEditor`), each test may make its own. */
export const createEditorStore = () =>
  create<Editor>()((set, get, api) => {
    let noticeSeq = 0;
    let focusSeq = 0;
    let pasteCount = 0;

    /** Makes `next` the document as one undo step (or part of the current one, for the same key). */
    const commit = (next: FlowDocument, key: string | null = null, selected?: ReadonlySet<string>) => {
      const s = get();
      if (next === s.document && !selected) return;
      set({ document: next, ...recordEdit(s, next, key), nodes: syncNodes(s.nodes, next, selected), edges: syncEdges(s.edges, next) });
    };

    const selectedIds = () => new Set(get().nodes.filter((n) => n.selected).map((n) => n.id));

    const notify = (text: string, tone: Notice["tone"] = "info") => set({ notice: { text, tone, seq: ++noticeSeq } });

    return {
      ...initialEditorState,
      ...createHistorySlice((s, document) => ({ nodes: syncNodes(s.nodes, document), edges: syncEdges(s.edges, document) }))(set, get, api),

      load: (document, path) =>
        set({
          document,
          path,
          savedDocument: document,
          ...emptyHistory,
          diagnostics: [],
          problemCounts: {},
          nodes: syncNodes([], document),
          edges: documentEdges(document),
          loads: get().loads + 1,
        }),

      restore: (document, path) => {
        get().load(document, path);
        // Still unsaved: the file on disk (if any) is older than what was recovered.
        set({ savedDocument: emptyDocument() });
      },

      markSaved: (document, path) => set({ savedDocument: document, path }),

      onNodesChange: (changes) => {
        // Removal goes through deleteElements, so a node and its wires leave in one undo step.
        const applicable = changes.filter((c) => c.type !== "remove" && c.type !== "add" && c.type !== "replace");
        if (!applicable.length) return;
        let nodes = applyNodeChanges(applicable, get().nodes);
        const measured = new Set(applicable.flatMap((c) => (c.type === "dimensions" ? [c.id] : [])));
        if (measured.size) nodes = nodes.map((n) => (measured.has(n.id) ? measuredNode(n) : n));
        set({ nodes });
        // A drag ends with `dragging: false`: commit the whole drag as one step.
        if (applicable.some((c) => c.type === "position" && c.dragging === false)) {
          commit(movedDocument(get().document, new Map(nodes.map((n) => [n.id, n.position]))));
        }
      },

      onEdgesChange: (changes) => {
        const applicable = changes.filter((c) => c.type === "select");
        if (applicable.length) set({ edges: applyEdgeChanges(applicable, get().edges) });
      },

      onConnect: (connection) => {
        set({ connectionHint: null });
        const result = connect(get().document, connection);
        if ("reason" in result) notify(`Not connected: ${result.reason}`, "error");
        else commit(result.document);
      },

      checkConnection: (connection) => {
        const reason = connectionProblem(get().document, connection);
        if (reason !== get().connectionHint) set({ connectionHint: reason });
        return reason;
      },

      endConnecting: () => {
        const s = get();
        if (s.connectionHint !== null) set({ connectionHint: null });
        const opened = new Set(s.nodes.flatMap((n) => (!isNoteNode(n) && n.data.showAll === "wire" ? [n.id] : [])));
        if (opened.size) set({ nodes: showPorts(s.nodes, s.document, opened, undefined) });
      },

      togglePorts: (nodeId) => {
        const s = get();
        const node = s.nodes.find((n) => n.id === nodeId);
        if (!node || isNoteNode(node)) return;
        set({ nodes: showPorts(s.nodes, s.document, new Set([nodeId]), node.data.showAll === "user" ? undefined : "user") });
      },

      revealPorts: (nodeId) => {
        const s = get();
        const node = s.nodes.find((n) => n.id === nodeId);
        if (!node || isNoteNode(node) || node.data.showAll) return;
        set({ nodes: showPorts(s.nodes, s.document, new Set([nodeId]), "wire") });
      },

      deleteElements: (canvasIds, edgeIds) => {
        const s = get();
        let next = s.document;
        const wires = new Set(edgeIds);
        for (const edge of s.edges) if (wires.has(edge.id)) next = disconnect(next, edge);
        if (canvasIds.length) next = removeNodes(next, new Set(canvasIds));
        commit(next);
      },

      deleteSelection: () => {
        const s = get();
        get().deleteElements(
          s.nodes.filter((n) => n.selected).map((n) => n.id),
          s.edges.filter((e) => e.selected).map((e) => e.id),
        );
      },

      addNode: (kind, position) => {
        const doc = get().document;
        if (isFlowPort(kind)) {
          const existing = doc.nodes.find((n) => n.type === kind);
          if (existing) {
            notify(`A flow has one ${kind} node; it is selected now.`);
            get().select([existing.id]);
            get().focusNode(existing.id);
            return existing.id;
          }
        }
        const ids = new Set(doc.nodes.map((n) => n.id));
        const id = isFlowPort(kind) ? idStem(kind) : uniqueId(idStem(kind), (candidate) => ids.has(candidate) || candidate === "inputs" || candidate === "vars");
        const node = { id, type: kind, position: { x: Math.round(position.x), y: Math.round(position.y) } } as FlowNode;
        commit({ ...doc, nodes: [...doc.nodes, node] }, null, new Set([id]));
        return id;
      },

      addNote: (position, text = "") => {
        const doc = get().document;
        const id = uniqueId("note", new Set((doc.notes ?? []).map((n) => n.id)));
        const note: Note = { id, text, position: { x: Math.round(position.x), y: Math.round(position.y) } };
        commit({ ...doc, notes: [...(doc.notes ?? []), note] }, null, new Set([NOTE_PREFIX + id]));
        return NOTE_PREFIX + id;
      },

      setNoteText: (canvasId, text) => {
        const doc = get().document;
        const notes = doc.notes?.map((n) => (NOTE_PREFIX + n.id === canvasId ? { ...n, text } : n));
        commit({ ...doc, notes }, `note:${canvasId}`);
      },

      setProperty: (nodeId, key, value, coalesce = true) => {
        const current = get().document.nodes.find((n) => n.id === nodeId)?.properties?.[key];
        if (current === value) return;
        commit(
          updateNode(get().document, nodeId, (n) => withProperty(n, key, value)),
          coalesce ? `prop:${nodeId}:${key}` : null,
        );
      },

      setNodeTitle: (nodeId, title) =>
        commit(
          updateNode(get().document, nodeId, (n) => {
            const { title: _old, ...rest } = n;
            void _old;
            return title ? { ...n, title } : rest;
          }),
          `title:${nodeId}`,
        ),

      renameNode: (from, to) => {
        const result = renameNode(get().document, from, to);
        if ("reason" in result) return result.reason;
        const wasSelected = get().nodes.some((n) => n.id === from && n.selected);
        commit(result.document, null, wasSelected ? new Set([to]) : undefined);
        return null;
      },

      updateFlow: (update, key) => commit(update(get().document), key ?? null),

      select: (canvasIds) => {
        const ids = new Set(canvasIds);
        set((s) => ({
          nodes: s.nodes.map((n) => (!!n.selected === ids.has(n.id) ? n : { ...n, selected: ids.has(n.id) })),
          edges: s.edges.some((e) => e.selected) ? s.edges.map((e) => (e.selected ? { ...e, selected: false } : e)) : s.edges,
        }));
      },

      focusNode: (id) => {
        get().select([id]);
        set({ focusRequest: { id, seq: ++focusSeq } });
      },

      copySelection: () => {
        const ids = selectedIds();
        if (!ids.size) return null;
        pasteCount = 0;
        return copyOf(get().document, ids);
      },

      cutSelection: () => {
        const clip = get().copySelection();
        if (clip) get().deleteSelection();
        return clip;
      },

      paste: (clip, at) => {
        let offset: { x: number; y: number };
        const corners = [...clip.nodes, ...clip.notes].map((n) => n.position);
        if (at && corners.length) {
          offset = { x: Math.round(at.x - Math.min(...corners.map((p) => p.x))), y: Math.round(at.y - Math.min(...corners.map((p) => p.y))) };
        } else {
          pasteCount += 1;
          offset = { x: 40 * pasteCount, y: 40 * pasteCount };
        }
        const { document, ids } = pasteInto(get().document, clip, offset);
        commit(document, null, new Set(ids));
      },

      duplicateSelection: () => {
        const ids = selectedIds();
        if (!ids.size) return;
        const { document, ids: added } = pasteInto(get().document, copyOf(get().document, ids), { x: 40, y: 40 });
        commit(document, null, new Set(added));
      },

      align: (mode) => {
        const chosen = get().nodes.filter((n) => n.selected);
        commit(movedDocument(get().document, alignPositions(chosen, mode)));
      },

      autoLayout: () => {
        const s = get();
        const nodes = s.nodes.filter((n) => !isNoteNode(n));
        commit(movedDocument(s.document, layeredPositions(nodes, s.edges)));
      },

      setDiagnostics: (diagnostics) => set({ diagnostics, problemCounts: countProblems(diagnostics) }),

      notify,

      dismissNotice: () => set({ notice: null }),
    };
  });

/** The app's editor. */
export const useEditor = createEditorStore();

/** Whether the document differs from the one last opened or saved. */
export const selectDirty = (s: EditorState) => s.document !== s.savedDocument;
