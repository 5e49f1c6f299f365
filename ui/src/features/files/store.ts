// Files: New, Open, Save, Save as, the recent list, and recovery of unsaved edits after a crash.
// The flow itself lives in the editor store; this keeps what is about files.
import { create } from "zustand";

import { ipc } from "../../ipc/client";
import { dialogs } from "../../ipc/dialog";
import { toIpcError } from "../../ipc/errors";
import type { FileVersion } from "../../ipc/generated/FileVersion";
import type { Recovery } from "../../ipc/generated/Recovery";
import type { Replace } from "../../ipc/generated/Replace";
import { emptyDocument, selectDirty, useEditor } from "../editor/store";
import { useRun } from "../run/store";

const RECENT_KEY = "weft.recentFlows";
const RECENT_LIMIT = 8;
const HINT_SEEN_KEY = "weft.sampleHintSeen";

function readRecent(): string[] {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(RECENT_KEY) ?? "[]");
    return Array.isArray(value) ? value.filter((p): p is string => typeof p === "string").slice(0, RECENT_LIMIT) : [];
  } catch {
    return [];
  }
}

type State = {
  recent: string[];
  /** Unsaved edits from the last session, offered back until restored or discarded. */
  recovery: Recovery | null;
  /** The first-launch hint over the sample flow. */
  sampleHint: boolean;
  /** The version of the editor's file on disk when last read or written, for Save to check that
   * nothing else changed it since; null for a flow without a file, or one whose version is unknown. */
  version: FileVersion | null;
};

type Actions = {
  start: () => Promise<void>;
  newFlow: () => Promise<void>;
  /** Opens `path`, or asks for one; false when cancelled or refused. */
  openFlow: (path?: string) => Promise<boolean>;
  save: () => Promise<boolean>;
  saveAs: () => Promise<boolean>;
  restoreRecovery: () => void;
  discardRecovery: () => Promise<void>;
  dismissHint: () => void;
  /** Asks before dropping unsaved edits; true when there are none or the user agrees. */
  confirmDiscard: () => Promise<boolean>;
};

const fileName = (path: string) => path.split(/[\\/]/).pop() ?? path;
const slug = (title: string) => title.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "flow";

export const useFiles = create<State & Actions>()((set, get) => {
  const remember = (path: string) => {
    const recent = [path, ...get().recent.filter((p) => p !== path)].slice(0, RECENT_LIMIT);
    localStorage.setItem(RECENT_KEY, JSON.stringify(recent));
    set({ recent });
  };
  const fail = (what: string, raw: unknown) => useEditor.getState().notify(`${what}: ${toIpcError(raw).message}`, "error");
  const writeTo = async (path: string, replace: Replace): Promise<boolean> => {
    const { document } = useEditor.getState();
    let version: FileVersion;
    try {
      version = await ipc.saveFlow(path, document, replace);
    } catch (raw) {
      const error = toIpcError(raw);
      if (error.kind !== "changedOnDisk") {
        fail(`Could not save ${fileName(path)}`, error);
        return false;
      }
      // On No nothing changes: the edits stay in the editor, unsaved, and the file keeps the other changes.
      const overwrite = await dialogs
        .confirm("The file changed on disk since you opened it. Overwrite it?", "Overwrite", "Keep editing")
        .catch(() => false);
      return overwrite ? writeTo(path, { mode: "any" }) : false;
    }
    useEditor.getState().markSaved(document, path);
    set({ version });
    remember(path);
    void ipc.clearRecovery().catch(() => undefined);
    return true;
  };

  return {
    recent: readRecent(),
    recovery: null,
    sampleHint: false,
    version: null,

    start: async () => {
      const recovery = await ipc.takeRecovery().catch(() => null);
      if (recovery) {
        set({ recovery });
        return;
      }
      try {
        const sample = await ipc.sampleFlow();
        useEditor.getState().load(sample.document, sample.path);
        set({ version: sample.version, sampleHint: localStorage.getItem(HINT_SEEN_KEY) !== "1" });
      } catch (raw) {
        fail("Could not open the sample flow", raw);
      }
    },

    confirmDiscard: async () => {
      if (!selectDirty(useEditor.getState())) return true;
      const title = useEditor.getState().document.title || "this flow";
      return dialogs.confirm(`“${title}” has unsaved changes. Discard them?`, "Discard changes", "Keep editing").catch(() => false);
    },

    newFlow: async () => {
      if (!(await get().confirmDiscard())) return;
      useEditor.getState().load(emptyDocument(), null);
      // The hint talks about the sample flow, which is gone.
      set({ sampleHint: false, version: null });
      void ipc.clearRecovery().catch(() => undefined);
    },

    openFlow: async (path) => {
      if (!(await get().confirmDiscard())) return false;
      const chosen = path ?? (await dialogs.openFlowPath().catch(() => null));
      if (!chosen) return false;
      try {
        const opened = await ipc.openFlow(chosen);
        useEditor.getState().load(opened.document, opened.path ?? chosen);
        set({ sampleHint: false, version: opened.version });
        remember(chosen);
        void ipc.clearRecovery().catch(() => undefined);
        return true;
      } catch (raw) {
        fail(`Could not open ${fileName(chosen)}`, raw);
        return false;
      }
    },

    save: async () => {
      const { path } = useEditor.getState();
      const { version } = get();
      if (!path) return get().saveAs();
      return writeTo(path, version ? { mode: "ifUnchanged", version } : { mode: "any" });
    },

    saveAs: async () => {
      const { document, path } = useEditor.getState();
      const target = await dialogs.saveFlowPath(path ?? `${slug(document.title ?? "")}.weft.yaml`).catch(() => null);
      // The save dialog has already asked before replacing an existing file.
      return target ? writeTo(target, { mode: "any" }) : false;
    },

    restoreRecovery: () => {
      const { recovery } = get();
      if (!recovery) return;
      useEditor.getState().restore(recovery.document, recovery.path);
      set({ recovery: null, version: recovery.version ?? null });
    },

    discardRecovery: async () => {
      set({ recovery: null });
      await ipc.clearRecovery().catch(() => undefined);
      await get().start();
    },

    dismissHint: () => {
      localStorage.setItem(HINT_SEEN_KEY, "1");
      set({ sampleHint: false });
    },
  };
});

// The hint is for a user who has not run a flow yet: starting the first run dismisses it, for good,
// as the × does.
useRun.subscribe((run, before) => {
  if (run.phase === "running" && before.phase !== "running") useFiles.getState().dismissHint();
});

export { fileName };
