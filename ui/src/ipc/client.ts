// The only place the UI calls Rust. The command map (generated/commands.ts) is written from the
// Rust command table (src-tauri/src/commands.rs), so a command's name, arguments and result cannot
// drift between the two sides: `call("save_flow", …)` is checked against what Rust declares.
import { invoke } from "@tauri-apps/api/core";

import { toIpcError } from "./errors";
import type { CommandName, Commands } from "./generated/commands";
import type { FileVersion } from "./generated/FileVersion";
import type { FlowDocument } from "./generated/FlowDocument";
import type { Replace } from "./generated/Replace";

export type { CommandName } from "./generated/commands";
/** What `invoke` sends for the command (camelCase keys, as Tauri names Rust's arguments). */
export type Args<K extends CommandName> = Commands[K]["args"];
/** What the command resolves to. */
export type Result<K extends CommandName> = Commands[K]["result"];

/** A command without arguments may be called without them. */
type ArgList<K extends CommandName> = [keyof Args<K>] extends [never] ? [args?: Args<K>] : [args: Args<K>];

export async function call<K extends CommandName>(name: K, ...[args]: ArgList<K>): Promise<Result<K>> {
  try {
    return await invoke<Result<K>>(name, args);
  } catch (raw) {
    throw toIpcError(raw);
  }
}

export const ipc = {
  diagnostics: () => call("diagnostics"),
  openFlow: (path: string) => call("open_flow", { path }),
  /** Resolves to the version now on disk; rejects with kind `changedOnDisk` when `replace` names an older one. */
  saveFlow: (path: string, document: FlowDocument, replace: Replace) =>
    call("save_flow", { path, document, replace }),
  sampleFlow: () => call("sample_flow"),
  validateFlow: (document: FlowDocument) => call("validate_flow", { document }),
  /** Inputs whose values are secrets: marked so, or feeding a dynamic connection's key. */
  secretInputs: (document: FlowDocument) => call("secret_inputs", { document }),
  saveRecovery: (path: string | null, version: FileVersion | null, document: FlowDocument) =>
    call("save_recovery", { path, version, document }),
  takeRecovery: () => call("take_recovery"),
  clearRecovery: () => call("clear_recovery"),
};
