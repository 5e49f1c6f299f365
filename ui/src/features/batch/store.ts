// The Batch panel: a data file and its first rows, the mapping of its columns to the open flow's
// inputs, a batch running with live progress, and a batch's rows (live or from history) in the
// grid. A batch runs the flow's saved file (the batch keeps a copy of it, so resume reruns what
// ran), so the panel asks for a save when the editor has unsaved changes.
import { create } from "zustand";

import { batchDialogs, batchIpc } from "../../ipc/batch";
import { toIpcError } from "../../ipc/errors";
import type { BatchEngine } from "../../ipc/generated/BatchEngine";
import type { BatchEvent } from "../../ipc/generated/BatchEvent";
import type { BatchProgress } from "../../ipc/generated/BatchProgress";
import type { BatchRowView } from "../../ipc/generated/BatchRowView";
import type { BatchSummary } from "../../ipc/generated/BatchSummary";
import type { BatchView } from "../../ipc/generated/BatchView";
import type { Concurrency } from "../../ipc/generated/Concurrency";
import type { DataPreview } from "../../ipc/generated/DataPreview";
import type { ExportFormat } from "../../ipc/generated/ExportFormat";
import type { IpcError } from "../../ipc/generated/IpcError";
import type { RowFilter } from "../../ipc/generated/RowFilter";
import { type MappingEntries, type MappingEntry, entriesFrom, mappingOf } from "../../shared/dataset/mapping";
import { selectDirty, useEditor } from "../editor/store";

/** Notices kept on screen; the grid's Failed filter lists every bad row, the progress counts throttles. */
export const NOTICE_LIMIT = 100;
const HISTORY_LIMIT = 50;
const MAX_CONCURRENCY = 1024;

export type BatchNotice = { kind: "throttled" | "bad_row" | "stopped"; message: string };

export type RemoteProgress = Omit<Extract<BatchEvent, { type: "remote" }>, "type">;

export type ConcurrencyDraft = { mode: "auto" } | { mode: "fixed"; text: string };

export type BatchState = {
  open: boolean;
  dataPath: string | null;
  preview: DataPreview | null;
  previewLoading: boolean;
  previewError: IpcError | null;
  entries: MappingEntries;
  concurrency: ConcurrencyDraft;
  /** Where the model calls run: here, or on the Azure OpenAI Batch API. */
  engine: BatchEngine;
  name: string;
  /** idle → starting (the command is pending, no event yet) → running → idle. */
  phase: "idle" | "starting" | "running";
  cancelling: boolean;
  /** The batch the results side shows: the one running, the last one, or one from history. */
  batch: BatchView | null;
  progress: BatchProgress | null;
  /** With the Azure Batch engine: where Azure is with the requests, from its last poll. */
  remote: RemoteProgress | null;
  summary: BatchSummary | null;
  notices: BatchNotice[];
  /** Notices beyond NOTICE_LIMIT, counted only. */
  moreNotices: number;
  /** Why the last start, resume, cancel or export failed. */
  error: IpcError | null;
  filter: RowFilter;
  /** The row shown node by node, and the row it is being fetched for. */
  row: BatchRowView | null;
  rowLoading: number | null;
  exported: string | null;
  history: BatchView[] | null;
  historyError: IpcError | null;
};

export type BatchActions = {
  openPanel: () => void;
  close: () => void;
  chooseData: () => Promise<void>;
  /** Reads the data file at a path typed or pasted instead of chosen. */
  readDataPath: (path: string) => Promise<void>;
  setEntry: (input: string, entry: MappingEntry) => void;
  setConcurrency: (draft: ConcurrencyDraft) => void;
  setEngine: (engine: BatchEngine) => void;
  setName: (name: string) => void;
  start: () => Promise<void>;
  cancel: () => Promise<void>;
  resume: () => Promise<void>;
  setFilter: (filter: RowFilter) => void;
  openRow: (row: number) => Promise<void>;
  closeRow: () => void;
  exportAs: (format: ExportFormat) => Promise<void>;
  loadHistory: () => Promise<void>;
  /** Opens the panel on a stored batch (from History). */
  show: (id: string) => Promise<void>;
};

export type BatchStore = BatchState & BatchActions;

/** `auto`, or the number typed when it is one from 1 to 1024; otherwise why not. */
export function concurrencyOf(draft: ConcurrencyDraft): { ok: true; value: Concurrency } | { ok: false; message: string } {
  if (draft.mode === "auto") return { ok: true, value: "auto" };
  const text = draft.text.trim();
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_CONCURRENCY) return { ok: false, message: `Type a number from 1 to ${MAX_CONCURRENCY}, or choose Auto.` };
  return { ok: true, value: n };
}

/** Rows of a batch a filter lists. */
export function filterCount(filter: RowFilter, counts: { succeeded: number; failed: number; cancelled: number }): number {
  switch (filter) {
    case "all":
      return counts.succeeded + counts.failed + counts.cancelled;
    case "succeeded":
      return counts.succeeded;
    case "failed":
      return counts.failed;
    case "cancelled":
      return counts.cancelled;
  }
}

/** The batch's counts as the panel shows them: live progress while it runs, stored counts after. */
export function shownCounts(state: Pick<BatchState, "batch" | "progress" | "phase">) {
  if (state.phase === "running" && state.progress) return state.progress;
  return state.batch?.counts ?? { succeeded: 0, failed: 0, cancelled: 0 };
}

function inputNames(): string[] {
  return Object.keys(useEditor.getState().document.inputs ?? {});
}

/** A placeholder for the batch until `batch_get` answers: what the panel knows it asked for. */
function pendingView(
  id: string,
  order: { name: string | null; flowPath: string; dataPath: string; mapping: Record<string, string>; concurrency: Concurrency; engine: BatchEngine },
): BatchView {
  return {
    id,
    name: order.name,
    flow_path: order.flowPath,
    data_path: order.dataPath,
    status: "running",
    counts: { succeeded: 0, failed: 0, cancelled: 0 },
    total: null,
    created_at_ms: Date.now(),
    finished_at_ms: null,
    mapping: order.mapping,
    concurrency: String(order.concurrency),
    engine: order.engine,
    profile: null,
    message: null,
  };
}

// Each batch the panel starts or resumes gets a number; events of an earlier one arriving late are dropped.
let seq = 0;

export const useBatch = create<BatchStore>()((set, get) => {
  function onEvent(mine: number, event: BatchEvent) {
    if (mine !== seq) return;
    switch (event.type) {
      case "started":
        set({ phase: "running" });
        return;
      case "progress": {
        const { type: _type, ...progress } = event;
        void _type;
        set({ progress });
        return;
      }
      case "throttled":
        notice({ kind: "throttled", message: `${event.endpoint} asked to slow down; its calls wait ${(event.wait_ms / 1000).toFixed(1)} s` });
        return;
      case "bad_row":
        // A read error names its line already; a mapping failure does not.
        notice({ kind: "bad_row", message: `Row ${event.row + 1} (line ${event.line}): ${event.message.replace(`line ${event.line}: `, "")}` });
        return;
      case "stopped":
        notice({ kind: "stopped", message: event.message });
        return;
      case "remote": {
        const { type: _type, ...remote } = event;
        void _type;
        set({ remote });
        return;
      }
    }
  }

  function notice(n: BatchNotice) {
    set((s) =>
      s.notices.length < NOTICE_LIMIT || n.kind === "stopped" ? { notices: [...s.notices, n] } : { moreNotices: s.moreNotices + 1 },
    );
  }

  /** Runs `work` (start or resume) with the live state around it; the stored batch is reread at the end. */
  async function watch(id: string, base: BatchView, work: (onEvent: (e: BatchEvent) => void) => Promise<BatchSummary>) {
    const mine = ++seq;
    set({ phase: "starting", cancelling: false, error: null, summary: null, progress: null, remote: null, notices: [], moreNotices: 0, batch: base, row: null, exported: null });
    try {
      const summary = await work((event) => onEvent(mine, event));
      if (mine === seq) set({ summary });
    } catch (raw) {
      if (mine === seq) set({ error: toIpcError(raw) });
    } finally {
      if (mine === seq) {
        set({ phase: "idle", cancelling: false });
        await refresh(id);
      }
      void get().loadHistory();
    }
  }

  async function refresh(id: string) {
    try {
      const batch = await batchIpc.get(id);
      if (get().batch?.id === id) set({ batch });
    } catch (raw) {
      // A batch that could not start was never stored: nothing to show but the error.
      const error = toIpcError(raw);
      if (error.kind === "notFound") set((s) => (s.batch?.id === id ? { batch: null } : {}));
      else set({ error });
    }
  }

  /** Reads the file's first rows and the mapping Rust proposes; `keep`: the user's choices for
   * inputs the flow still has stay (the panel reopened on the same file). */
  async function preview(path: string, keep = false) {
    set({ dataPath: path, previewLoading: true, previewError: null });
    try {
      const data = await batchIpc.preview(useEditor.getState().document, path);
      if (get().dataPath !== path) return;
      const proposed = entriesFrom(inputNames(), data.mapping);
      const kept = keep ? get().entries : {};
      const entries = Object.fromEntries(Object.entries(proposed).map(([name, entry]) => [name, kept[name] ?? entry]));
      set({ preview: data, previewLoading: false, entries });
    } catch (raw) {
      if (get().dataPath === path) set({ preview: null, previewLoading: false, previewError: toIpcError(raw) });
    }
  }

  return {
    open: false,
    dataPath: null,
    preview: null,
    previewLoading: false,
    previewError: null,
    entries: {},
    concurrency: { mode: "auto" },
    engine: "local",
    name: "",
    phase: "idle",
    cancelling: false,
    batch: null,
    progress: null,
    remote: null,
    summary: null,
    notices: [],
    moreNotices: 0,
    error: null,
    filter: "all",
    row: null,
    rowLoading: null,
    exported: null,
    history: null,
    historyError: null,

    openPanel: () => {
      set({ open: true });
      // The flow's inputs may have changed since the file was previewed: map the new ones.
      const { dataPath, phase, entries } = get();
      const names = inputNames();
      const changed = names.length !== Object.keys(entries).length || names.some((n) => !(n in entries));
      if (dataPath && phase === "idle" && changed) void preview(dataPath, true);
    },
    close: () => set({ open: false }),

    chooseData: async () => {
      try {
        const path = await batchDialogs.openDataPath();
        if (path) await preview(path);
      } catch (raw) {
        set({ previewError: toIpcError(raw) });
      }
    },

    readDataPath: async (path) => {
      const trimmed = path.trim();
      if (trimmed && get().phase === "idle") await preview(trimmed);
    },

    setEntry: (input, entry) => set((s) => ({ entries: { ...s.entries, [input]: entry } })),
    setConcurrency: (concurrency) => set({ concurrency }),
    setEngine: (engine) => set({ engine }),
    setName: (name) => set({ name }),

    start: async () => {
      const { dataPath, entries, phase } = get();
      // Azure schedules an Azure batch's calls itself; the concurrency then plays no part.
      const concurrency = get().engine === "azure-batch" ? ({ ok: true, value: "auto" } as const) : concurrencyOf(get().concurrency);
      const editor = useEditor.getState();
      // The batch runs the file: unsaved edits would not be in it.
      const flowPath = selectDirty(editor) ? null : editor.path;
      if (phase !== "idle" || !dataPath || !flowPath || !concurrency.ok) return;
      const batchId = crypto.randomUUID();
      const order = {
        batchId,
        name: get().name.trim() || null,
        flowPath,
        dataPath,
        mapping: mappingOf(entries),
        concurrency: concurrency.value,
        engine: get().engine,
      };
      set({ filter: "all" });
      await watch(batchId, pendingView(batchId, order), (on) => batchIpc.start(order, on));
    },

    cancel: async () => {
      const id = get().batch?.id;
      if (get().phase === "idle" || !id) return;
      set({ cancelling: true });
      try {
        await batchIpc.cancel(id);
      } catch (raw) {
        set({ cancelling: false, error: toIpcError(raw) });
      }
    },

    resume: async () => {
      const batch = get().batch;
      if (get().phase !== "idle" || !batch) return;
      // With the concurrency it was started with (the setup side may describe another batch).
      await watch(batch.id, { ...batch, status: "running" }, (on) => batchIpc.resume(batch.id, null, on));
    },

    setFilter: (filter) => set({ filter }),

    openRow: async (row) => {
      const id = get().batch?.id;
      if (!id) return;
      set({ rowLoading: row });
      try {
        const view = await batchIpc.row(id, row);
        if (get().rowLoading === row && get().batch?.id === id) set({ row: view, rowLoading: null });
      } catch (raw) {
        set({ rowLoading: null, error: toIpcError(raw) });
      }
    },
    closeRow: () => set({ row: null, rowLoading: null }),

    exportAs: async (format) => {
      const batch = get().batch;
      if (!batch) return;
      try {
        const stem = (batch.name ?? `batch-${batch.id.slice(0, 8)}`).replace(/[\\/:*?"<>|]+/g, "-");
        const path = await batchDialogs.exportPath(stem, format);
        if (!path) return;
        await batchIpc.export(batch.id, format, path);
        set({ exported: path, error: null });
      } catch (raw) {
        set({ error: toIpcError(raw) });
      }
    },

    loadHistory: async () => {
      try {
        set({ history: await batchIpc.list(HISTORY_LIMIT), historyError: null });
      } catch (raw) {
        set({ historyError: toIpcError(raw) });
      }
    },

    show: async (id) => {
      if (get().phase !== "idle" && get().batch?.id !== id) {
        set({ open: true });
        return;
      }
      try {
        const batch = await batchIpc.get(id);
        set({ open: true, batch, filter: "all", row: null, summary: null, progress: null, remote: null, notices: [], moreNotices: 0, error: null, exported: null });
      } catch (raw) {
        set({ historyError: toIpcError(raw) });
      }
    },
  };
});
