// Stands in for the Rust side in browser tests (`vite build --mode e2e`); never in the shipped
// bundle. It mirrors the real commands' contracts (mock-commands.ts): secrets go in, never come out.
import { mockIPC, mockWindows } from "@tauri-apps/api/mocks";

import type { CommandName } from "./client";
import { commandNames } from "./generated/commands";
import { handlers, pluginHandlers } from "./mock-commands";
import { fail } from "./mock-options";

const weftCommands: ReadonlySet<string> = new Set(commandNames);

mockIPC((command, payload) => {
  const args = (payload ?? {}) as Record<string, unknown>;
  if (weftCommands.has(command)) {
    // The generated map types each handler's arguments; the page's `call()` was checked against it.
    const handler = handlers[command as CommandName] as (args: Record<string, unknown>) => unknown;
    return handler(args);
  }
  const plugin = pluginHandlers[command] ?? fail("internal", `the mock has no command ${command}`);
  return plugin(args);
});

// The window API reads the current window's label from Tauri's metadata.
mockWindows("main");
