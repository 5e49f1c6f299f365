// Typed calls to the Rust eval commands and the dialogs the Evaluate panel opens. Like a batch,
// an eval's events stream over a Tauri Channel while `eval_run` is pending; it resolves with the
// report once every variant has been run and checked. Cancel is `cancel_run` with the eval's id.
import { Channel } from "@tauri-apps/api/core";
import { open, save } from "@tauri-apps/plugin-dialog";

import { type Args, call } from "./client";
import type { EvalEvent } from "./generated/EvalEvent";
import type { EvalFileView } from "./generated/EvalFileView";

/** What `eval_run` takes besides its event channel. */
export type EvalOrder = Omit<Args<"eval_run">, "events">;

const EVAL_FILTERS = [{ name: "Weft evaluation", extensions: ["eval.yaml"] }];
const DATA_FILTERS = [
  { name: "Data (JSONL or CSV)", extensions: ["jsonl", "ndjson", "csv"] },
  { name: "JSON Lines", extensions: ["jsonl", "ndjson"] },
  { name: "CSV", extensions: ["csv"] },
];

export const evalIpc = {
  open: (path: string) => call("eval_open", { path }),
  save: (path: string, file: EvalFileView) => call("eval_save", { path, file }),
  /** Resolves with the report when the eval ends; rejects only if it cannot start (the file, its
   * flow, data or assertions), before any call. `evalId` is the caller's, so Cancel works at once. */
  run: (order: EvalOrder, onEvent: (event: EvalEvent) => void) => {
    const events = new Channel<EvalEvent>();
    events.onmessage = onEvent;
    return call("eval_run", { ...order, events });
  },
  cancel: (evalId: string) => call("cancel_run", { runId: evalId }),
  list: (limit: number) => call("eval_list", { limit }),
  report: (id: string) => call("eval_report", { id }),
  rows: (id: string, offset: number, limit: number) => call("eval_rows", { id, offset, limit }),
  /** Appends the run's inputs (and `expectedFrom`'s output as `expected`) to the data file, made if missing. */
  addRunToDataset: (runId: string, path: string, expectedFrom: string | null) => call("dataset_add_run", { runId, path, expectedFrom }),
};

export const evalDialogs = {
  openEvalPath: async () => {
    const picked = await open({ title: "Open an evaluation", multiple: false, directory: false, filters: EVAL_FILTERS });
    return typeof picked === "string" ? picked : null;
  },
  /** Where to save a new eval; adds `.eval.yaml` when the name lacks it. */
  saveEvalPath: async (suggested: string) => {
    const picked = await save({ title: "Save the evaluation", defaultPath: suggested, filters: EVAL_FILTERS });
    if (!picked) return null;
    return picked.endsWith(".eval.yaml") ? picked : `${picked.replace(/\.ya?ml$/, "")}.eval.yaml`;
  },
  openDataPath: async () => {
    const picked = await open({ title: "Choose a data file", multiple: false, directory: false, filters: DATA_FILTERS });
    return typeof picked === "string" ? picked : null;
  },
  /** A data file to add to: an existing one, or a new name (the save dialog allows both). */
  datasetPath: async (suggested: string) => {
    const picked = await save({ title: "Add to dataset", defaultPath: suggested, filters: DATA_FILTERS });
    if (!picked) return null;
    return /\.(jsonl|ndjson|csv)$/i.test(picked) ? picked : `${picked}.jsonl`;
  },
};
