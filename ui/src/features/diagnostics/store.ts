import { create } from "zustand";

import { ipc } from "../../ipc/client";
import { toIpcError } from "../../ipc/errors";
import type { Diagnostics } from "../../ipc/generated/Diagnostics";
import type { IpcError } from "../../ipc/generated/IpcError";

export type DiagnosticsState = {
  visible: boolean;
  checking: boolean;
  report: Diagnostics | null;
  /** When the report came (ms since the epoch), which "token expires in …" counts from. */
  checkedAtMs: number;
  error: IpcError | null;
};

export type DiagnosticsActions = {
  /** Shows the dialog and runs the checks (a real keychain round-trip each time). */
  open: () => Promise<void>;
  refresh: () => Promise<void>;
  close: () => void;
};

export const initialDiagnosticsState: DiagnosticsState = {
  visible: false,
  checking: false,
  report: null,
  checkedAtMs: 0,
  error: null,
};

export const useDiagnostics = create<DiagnosticsState & DiagnosticsActions>()((set, get) => ({
  ...initialDiagnosticsState,
  open: async () => {
    set({ visible: true });
    await get().refresh();
  },
  refresh: async () => {
    // The previous report stays on screen while checking, so the dialog does not jump.
    set({ checking: true, error: null });
    try {
      set({ report: await ipc.diagnostics(), checkedAtMs: Date.now(), checking: false });
    } catch (raw) {
      // A stale report beside the error would read as if part of the check had passed.
      set({ report: null, error: toIpcError(raw), checking: false });
    }
  },
  close: () => set({ visible: false }),
}));
