// Typed calls to the Rust run commands. A run's events stream over a Tauri Channel while the
// command is pending; the command itself resolves with the summary once the run has ended.
import { Channel } from "@tauri-apps/api/core";

import { call } from "./client";
import type { FlowDocument } from "./generated/FlowDocument";
import type { RunEvent } from "./generated/RunEvent";
import type { RunPlan } from "./generated/RunPlan";
import type { RunSummary } from "./generated/RunSummary";
import type { RunView } from "./generated/RunView";

export type RunOrder = {
  document: FlowDocument;
  /** The flow's file; runs of the same path share reusable results. `null` for an unsaved flow. */
  path: string | null;
  inputs: Record<string, unknown>;
  plan: RunPlan;
  /** Chosen here, so the run can be cancelled by id from the moment it is asked for. */
  runId: string;
};

export const runsIpc = {
  /** Resolves when the run ends, whatever its status (check `status`); rejects if it cannot start. */
  run: (order: RunOrder, onEvent: (event: RunEvent) => void) => {
    const events = new Channel<RunEvent>();
    events.onmessage = onEvent;
    return call<RunSummary>("run_flow", { ...order, events });
  },
  /** Whether the run with this id was in progress to stop. */
  cancel: (runId: string) => call<boolean>("cancel_run", { runId }),
  list: (limit: number) => call<RunView[]>("list_runs", { limit }),
  get: (id: string) => call<RunView>("get_run", { id }),
};
