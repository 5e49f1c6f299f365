// The Connections manager's state: the list (no secret values, ever), the types and their fields,
// and which connection the form shows.
import { create } from "zustand";

import { connectionsIpc } from "../../ipc/connections";
import { toIpcError } from "../../ipc/errors";
import type { ConnectionView } from "../../ipc/generated/ConnectionView";
import type { IpcError } from "../../ipc/generated/IpcError";
import type { KindSpec } from "../../ipc/generated/KindSpec";
import type { SavedConnection } from "../../ipc/generated/SavedConnection";
import { type ConnectionDraft, toInput } from "./form";

/** What the form edits: an existing connection (by name) or a new one of a type. */
export type Selection = { mode: "edit"; name: string } | { mode: "new"; kind: KindSpec["kind"] } | null;

type State = {
  open: boolean;
  kinds: KindSpec[];
  connections: ConnectionView[];
  loading: boolean;
  loadError: IpcError | null;
  selection: Selection;
  /** The outcome of the last save, shown on the (re-mounted) form of that connection. */
  lastSaved: { name: string; warnings: string[] } | null;
};

type Actions = {
  openManager: (selection?: Selection) => Promise<void>;
  close: () => void;
  select: (selection: Selection) => void;
  /** Saves the draft of a connection of type `spec` and selects it; rejects with an IpcError. */
  save: (spec: KindSpec, draft: ConnectionDraft) => Promise<SavedConnection>;
  remove: (name: string) => Promise<void>;
};

export const useConnections = create<State & Actions>()((set, get) => ({
  open: false,
  kinds: [],
  connections: [],
  loading: false,
  loadError: null,
  selection: null,
  lastSaved: null,

  openManager: async (selection = null) => {
    set({ open: true, selection, loading: true, loadError: null });
    try {
      const [kinds, connections] = await Promise.all([connectionsIpc.kinds(), connectionsIpc.list()]);
      const first = connections[0];
      set({
        kinds,
        connections,
        loading: false,
        selection: get().selection ?? (first ? { mode: "edit", name: first.name } : null),
      });
    } catch (raw) {
      set({ loading: false, loadError: toIpcError(raw) });
    }
  },

  close: () => set({ open: false }),

  select: (selection) => set({ selection, lastSaved: null }),

  save: async (spec, draft) => {
    const input = toInput(spec, draft);
    const saved = draft.original
      ? await connectionsIpc.update(draft.original, input)
      : await connectionsIpc.create(input);
    const connections = await connectionsIpc.list();
    const name = saved.connection.name;
    set({ connections, selection: { mode: "edit", name }, lastSaved: { name, warnings: saved.warnings } });
    return saved;
  },

  remove: async (name) => {
    await connectionsIpc.remove(name);
    const connections = await connectionsIpc.list();
    const first = connections[0];
    set({ connections, selection: first ? { mode: "edit", name: first.name } : null, lastSaved: null });
  },
}));
