// Typed calls to the Rust run commands. A run's events stream over a Tauri Channel while the
// command is pending; the command itself resolves with the summary once the run has ended.
import { Channel } from "@tauri-apps/api/core";

import { type Args, call } from "./client";
import type { RunEvent } from "./generated/RunEvent";

/** What `run_flow` takes besides its event channel. */
export type RunOrder = Omit<Args<"run_flow">, "events">;

export const runsIpc = {
  /** Resolves when the run ends, whatever its status (check `status`); rejects if it cannot start.
   * `runId` is chosen by the caller, so the run can be cancelled by id from the moment it is asked
   * for; `path` is the flow's file (runs of the same path share reusable results), `null` unsaved. */
  run: (order: RunOrder, onEvent: (event: RunEvent) => void) => {
    const events = new Channel<RunEvent>();
    events.onmessage = onEvent;
    return call("run_flow", { ...order, events });
  },
  /** Whether the run with this id was in progress to stop. */
  cancel: (runId: string) => call("cancel_run", { runId }),
  list: (limit: number) => call("list_runs", { limit }),
  get: (id: string) => call("get_run", { id }),
};
