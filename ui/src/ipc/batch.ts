// Typed calls to the Rust batch commands, and the native dialogs the Batch panel opens. Like a
// test run, a batch's events stream over a Tauri Channel while `batch_start` (or `batch_resume`)
// is pending; the command resolves with the summary once the batch has ended.
import { Channel } from "@tauri-apps/api/core";
import { open, save } from "@tauri-apps/plugin-dialog";

import { type Args, call } from "./client";
import type { BatchEvent } from "./generated/BatchEvent";
import type { Concurrency } from "./generated/Concurrency";
import type { ExportFormat } from "./generated/ExportFormat";
import type { FlowDocument } from "./generated/FlowDocument";
import type { RowFilter } from "./generated/RowFilter";

/** What `batch_start` takes besides its event channel. */
export type BatchOrder = Omit<Args<"batch_start">, "events">;

const DATA_FILTERS = [
  { name: "Data (JSONL or CSV)", extensions: ["jsonl", "ndjson", "csv"] },
  { name: "JSON Lines", extensions: ["jsonl", "ndjson"] },
  { name: "CSV", extensions: ["csv"] },
];

function channel(onEvent: (event: BatchEvent) => void) {
  const events = new Channel<BatchEvent>();
  events.onmessage = onEvent;
  return events;
}

export const batchIpc = {
  preview: (document: FlowDocument, path: string) => call("batch_preview", { document, path }),
  /** Resolves when the batch ends, whatever its status; rejects only if it cannot start.
   * `batchId` is the caller's, so Cancel works from the moment the batch is asked for. */
  start: (order: BatchOrder, onEvent: (event: BatchEvent) => void) => call("batch_start", { ...order, events: channel(onEvent) }),
  /** Runs the rows that did not succeed again, under the same id. */
  resume: (batchId: string, concurrency: Concurrency | null, onEvent: (event: BatchEvent) => void) =>
    call("batch_resume", { batchId, concurrency, events: channel(onEvent) }),
  /** Whether the batch was in progress to stop. */
  cancel: (batchId: string) => call("batch_cancel", { batchId }),
  list: (limit: number) => call("batch_list", { limit }),
  get: (id: string) => call("batch_get", { id }),
  rows: (id: string, filter: RowFilter, offset: number, limit: number) => call("batch_rows", { id, filter, offset, limit }),
  row: (id: string, row: number) => call("batch_row", { id, row }),
  export: (id: string, format: ExportFormat, path: string) => call("batch_export", { id, format, path }),
};

export const batchDialogs = {
  /** A data file to run the flow over, or null when cancelled. */
  openDataPath: async () => {
    const picked = await open({ title: "Choose a data file", multiple: false, directory: false, filters: DATA_FILTERS });
    return typeof picked === "string" ? picked : null;
  },
  /** Where to write the export, or null when cancelled; adds the format's extension when missing. */
  exportPath: async (suggested: string, format: ExportFormat) => {
    const extension = format === "csv" ? "csv" : "jsonl";
    const picked = await save({
      title: "Export batch results",
      defaultPath: `${suggested}.${extension}`,
      filters: [{ name: format === "csv" ? "CSV" : "JSON Lines", extensions: [extension] }],
    });
    if (!picked) return null;
    return picked.endsWith(`.${extension}`) ? picked : `${picked}.${extension}`;
  },
};
