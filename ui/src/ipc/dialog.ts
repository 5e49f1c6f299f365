// Native file dialogs and the window, through Tauri's dialog plugin and window API. Kept in ipc/
// like every other call into Rust; browser tests answer them in mock-flows.ts.
import { getCurrentWindow } from "@tauri-apps/api/window";
import { ask, open, save } from "@tauri-apps/plugin-dialog";

const filters = [{ name: "Weft flow", extensions: ["weft.yaml"] }];

export const dialogs = {
  /** A flow file to open, or null when cancelled. */
  openFlowPath: async () => {
    const picked = await open({ title: "Open flow", multiple: false, directory: false, filters });
    return typeof picked === "string" ? picked : null;
  },
  /** Where to save, or null when cancelled; adds the extension when the name lacks it. */
  saveFlowPath: async (suggested: string) => {
    const picked = await save({ title: "Save flow", defaultPath: suggested, filters });
    if (!picked) return null;
    return picked.endsWith(".weft.yaml") ? picked : `${picked.replace(/\.ya?ml$/, "")}.weft.yaml`;
  },
  confirm: (message: string, okLabel: string, cancelLabel = "Cancel") =>
    ask(message, { title: "Weft", kind: "warning", okLabel, cancelLabel }),
};

export const appWindow = {
  setTitle: (title: string) => getCurrentWindow().setTitle(title),
  /** Runs `handler` when the user closes the window; it may call `preventDefault` to keep it open. */
  onCloseRequested: (handler: (event: { preventDefault: () => void }) => Promise<void> | void) =>
    getCurrentWindow().onCloseRequested(handler),
};
