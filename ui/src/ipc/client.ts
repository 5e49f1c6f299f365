// The only place the UI calls Rust. Each command's argument and result types are generated from
// the Rust types (src/ipc/generated), so the two sides cannot drift.
import { invoke } from "@tauri-apps/api/core";

import { toIpcError } from "./errors";
import type { Diagnostic } from "./generated/Diagnostic";
import type { Diagnostics } from "./generated/Diagnostics";
import type { FileVersion } from "./generated/FileVersion";
import type { FlowDocument } from "./generated/FlowDocument";
import type { OpenedFlow } from "./generated/OpenedFlow";
import type { Recovery } from "./generated/Recovery";
import type { Replace } from "./generated/Replace";

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
  /** Resolves to the version now on disk; rejects with kind `changedOnDisk` when `replace` names an older one. */
  saveFlow: (path: string, document: FlowDocument, replace: Replace) =>
    call<FileVersion>("save_flow", { path, document, replace }),
  sampleFlow: () => call<OpenedFlow>("sample_flow"),
  validateFlow: (document: FlowDocument) => call<Diagnostic[]>("validate_flow", { document }),
  /** Inputs whose values are secrets: marked so, or feeding a dynamic connection's key. */
  secretInputs: (document: FlowDocument) => call<string[]>("secret_inputs", { document }),
  saveRecovery: (path: string | null, version: FileVersion | null, document: FlowDocument) =>
    call<void>("save_recovery", { path, version, document }),
  takeRecovery: () => call<Recovery | null>("take_recovery"),
  clearRecovery: () => call<void>("clear_recovery"),
};
