// Undo and redo as a slice of the editor store. The history holds whole documents: each edit
// makes a new FlowDocument and keeps the old one, which shares every node the edit did not touch.
import type { StateCreator } from "zustand";

import type { FlowDocument } from "../../ipc/generated/FlowDocument";
import type { Editor } from "./store";

const HISTORY_LIMIT = 200;

export type HistoryState = {
  past: FlowDocument[];
  future: FlowDocument[];
  /** Consecutive edits with the same key (typing in one field) make one undo step. */
  coalesceKey: string | null;
};

export type HistoryActions = {
  undo: () => void;
  redo: () => void;
  endCoalescing: () => void;
};

export const emptyHistory: HistoryState = { past: [], future: [], coalesceKey: null };

/** The history once `next` replaces `s.document`: a new step, or part of the current one when `key` repeats. */
export function recordEdit(s: Pick<Editor, "document" | keyof HistoryState>, next: FlowDocument, key: string | null): HistoryState {
  if (next === s.document) return { past: s.past, future: s.future, coalesceKey: key };
  const extend = key !== null && key === s.coalesceKey;
  return { past: extend ? s.past : [...s.past, s.document].slice(-HISTORY_LIMIT), future: [], coalesceKey: key };
}

/** What else changes when a document from the history is shown (the canvas's nodes and wires). */
export type ShowDocument = (s: Editor, document: FlowDocument) => Partial<Editor>;

export const createHistorySlice =
  (show: ShowDocument): StateCreator<Editor, [], [], HistoryActions> =>
  (set, get) => ({
    undo: () => {
      const s = get();
      const previous = s.past.at(-1);
      if (!previous) return;
      set({ ...show(s, previous), document: previous, past: s.past.slice(0, -1), future: [s.document, ...s.future], coalesceKey: null });
    },

    redo: () => {
      const s = get();
      const [next, ...future] = s.future;
      if (!next) return;
      set({ ...show(s, next), document: next, past: [...s.past, s.document], future, coalesceKey: null });
    },

    endCoalescing: () => set({ coalesceKey: null }),
  });
