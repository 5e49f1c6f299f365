// The Connections manager's state: the list (no secret values, ever), the types and their fields,
// and which connection the form shows.
import { create } from "zustand";

import { connectionsIpc } from "../../ipc/connections";
import { toIpcError } from "../../ipc/errors";
import type { ConnectionKind } from "../../ipc/generated/ConnectionKind";
import type { ConnectionView } from "../../ipc/generated/ConnectionView";
import type { IpcError } from "../../ipc/generated/IpcError";
import type { KindSpec } from "../../ipc/generated/KindSpec";
import type { SavedConnection } from "../../ipc/generated/SavedConnection";
import { type ConnectionDraft, toInput } from "./form";

/** What the form edits: an existing connection (by name) or a new one of a type. */
export type Selection = { mode: "edit"; name: string } | { mode: "new"; kind: KindSpec["kind"] } | null;

/** A node property's picker that opened the manager for a new connection: the types it takes
 * (null: any), and how the connection created next becomes the property's value. */
export type PickTarget = { label: string; accepts: ConnectionKind[] | null; pick: (name: string) => void };

type State = {
  open: boolean;
  kinds: KindSpec[];
  connections: ConnectionView[];
  loading: boolean;
  loadError: IpcError | null;
  selection: Selection;
  /** The type the sidebar's New button creates. */
  newKind: ConnectionKind;
  /** Set while the manager was opened by a node's "New connection…". */
  target: PickTarget | null;
  /** The outcome of the last save, shown on the (re-mounted) form of that connection; `pickedFor`
   * names the node property it was chosen for. */
  lastSaved: { name: string; warnings: string[]; pickedFor?: string } | null;
};

type Actions = {
  /** Opens the manager; with `target`, on a new connection of a type it accepts. */
  openManager: (selection?: Selection, target?: PickTarget) => Promise<void>;
  /** Fills the list and the types once, for a picker shown before the manager was opened. */
  load: () => Promise<void>;
  setNewKind: (kind: ConnectionKind) => void;
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
  newKind: "azure_ai",
  target: null,
  lastSaved: null,

  openManager: async (selection = null, target) => {
    const newKind = selection?.mode === "new" ? selection.kind : get().newKind;
    set({ open: true, selection, newKind, target: target ?? null, loading: true, loadError: null, lastSaved: null });
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

  load: async () => {
    if (get().kinds.length) return;
    try {
      const [kinds, connections] = await Promise.all([connectionsIpc.kinds(), connectionsIpc.list()]);
      // The manager may have loaded (and since changed) the list meanwhile.
      if (!get().kinds.length) set({ kinds, connections });
    } catch {
      // The picker then lists nothing; opening the manager shows the error and what to do.
    }
  },

  setNewKind: (newKind) => set({ newKind }),

  close: () => set({ open: false, target: null }),

  select: (selection) => set({ selection, lastSaved: null }),

  save: async (spec, draft) => {
    const input = toInput(spec, draft);
    const saved = draft.original
      ? await connectionsIpc.update(draft.original, input)
      : await connectionsIpc.create(input);
    const connections = await connectionsIpc.list();
    const name = saved.connection.name;
    // A connection created for a node's picker becomes its value, once.
    const target = get().target;
    const picked = !draft.original && target && (!target.accepts || target.accepts.includes(saved.connection.type));
    if (picked) target.pick(name);
    set({
      connections,
      selection: { mode: "edit", name },
      target: picked ? null : target,
      lastSaved: { name, warnings: saved.warnings, ...(picked ? { pickedFor: target.label } : {}) },
    });
    return saved;
  },

  remove: async (name) => {
    await connectionsIpc.remove(name);
    const connections = await connectionsIpc.list();
    const first = connections[0];
    set({ connections, selection: first ? { mode: "edit", name: first.name } : null, lastSaved: null });
  },
}));
