// The only place the UI calls Rust. Each command's argument and result types are generated from
// the Rust types (src/ipc/generated), so the two sides cannot drift.
import { invoke } from "@tauri-apps/api/core";

import { toIpcError } from "./errors";
import type { Diagnostic } from "./generated/Diagnostic";
import type { Diagnostics } from "./generated/Diagnostics";
import type { FlowDocument } from "./generated/FlowDocument";
import type { OpenedFlow } from "./generated/OpenedFlow";
import type { Recovery } from "./generated/Recovery";

export async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (raw) {
    throw toIpcError(raw);
  }
}

export const ipc = {
  diagnostics: () => call<Diagnostics>("diagnostics"),
  openFlow: (path: string) => call<OpenedFlow>("open_flow", { path }),
  saveFlow: (path: string, document: FlowDocument) => call<void>("save_flow", { path, document }),
  sampleFlow: () => call<OpenedFlow>("sample_flow"),
  validateFlow: (document: FlowDocument) => call<Diagnostic[]>("validate_flow", { document }),
  saveRecovery: (path: string | null, document: FlowDocument) => call<void>("save_recovery", { path, document }),
  takeRecovery: () => call<Recovery | null>("take_recovery"),
  clearRecovery: () => call<void>("clear_recovery"),
};
