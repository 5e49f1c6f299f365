// The only place the UI calls Rust. Each command's argument and result types are generated from
// the Rust types (src/ipc/generated), so the two sides cannot drift.
import { invoke } from "@tauri-apps/api/core";

import { toIpcError } from "./errors";
import type { Diagnostics } from "./generated/Diagnostics";

export async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (raw) {
    throw toIpcError(raw);
  }
}

export const ipc = {
  diagnostics: () => call<Diagnostics>("diagnostics"),
};
