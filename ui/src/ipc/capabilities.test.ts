// The main window may call only the plugin commands the UI uses (finding M6 of the December 2026
// review): a permission set such as `core:default` would also allow tray, menu and webview commands.
import { expect, it } from "vitest";

import capability from "../../../src-tauri/capabilities/default.json";

/** Each plugin command the UI invokes through @tauri-apps (ipc/dialog.ts), and what allows it.
 * Run channels (ipc/runs.ts) and Weft's own commands need no permission. */
const USED: Record<string, string> = {
  // appWindow.onCloseRequested listens for the close request…
  "plugin:event|listen": "core:event:allow-listen",
  "plugin:event|unlisten": "core:event:allow-unlisten",
  // …and closes the window itself once the user agreed.
  "plugin:window|destroy": "core:window:allow-destroy",
  "plugin:window|set_title": "core:window:allow-set-title",
  "plugin:dialog|open": "dialog:allow-open",
  "plugin:dialog|save": "dialog:allow-save",
  // ask() is a message dialog with two buttons.
  "plugin:dialog|message": "dialog:allow-message",
};

it("grants exactly the permissions of the plugin commands the UI calls", () => {
  expect([...capability.permissions].sort()).toEqual(Object.values(USED).sort());
});
