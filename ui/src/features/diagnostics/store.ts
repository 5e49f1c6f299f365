import { create } from "zustand";

import { ipc } from "../../ipc/client";
import { toIpcError } from "../../ipc/errors";
import type { Diagnostics } from "../../ipc/generated/Diagnostics";
import type { IpcError } from "../../ipc/generated/IpcError";

type State = {
  visible: boolean;
  checking: boolean;
  report: Diagnostics | null;
  error: IpcError | null;
};

type Actions = {
  /** Shows the dialog and runs the checks (a real keychain round-trip each time). */
  open: () => Promise<void>;
  refresh: () => Promise<void>;
  close: () => void;
};

export const useDiagnostics = create<State & Actions>()((set, get) => ({
  visible: false,
  checking: false,
  report: null,
  error: null,
  open: async () => {
    set({ visible: true });
    await get().refresh();
  },
  refresh: async () => {
    set({ checking: true, error: null });
    try {
      set({ report: await ipc.diagnostics(), checking: false });
    } catch (raw) {
      set({ error: toIpcError(raw), checking: false });
    }
  },
  close: () => set({ visible: false }),
}));
