// The recovery copy autosave keeps while there are unsaved edits. A failure is shown once, not on
// every tick, and logged; the next tick tries again, and a success ends the run of failures.
import { ipc } from "../../ipc/client";
import { toIpcError } from "../../ipc/errors";
import type { FlowDocument } from "../../ipc/generated/FlowDocument";
import { selectDirty, useEditor } from "../editor/store";
import { useFiles } from "./store";

/** One autosave step, to call on a timer. */
export function recoveryAutosave(): () => Promise<void> {
  let kept: FlowDocument | null = null;
  // A slow disk must not start a second write of the same copy before the first ends.
  let writing = false;
  let failing = false;
  return async () => {
    const editor = useEditor.getState();
    if (writing || !selectDirty(editor) || editor.document === kept) return;
    writing = true;
    try {
      await ipc.saveRecovery(editor.path, useFiles.getState().version, editor.document);
      kept = editor.document;
      failing = false;
    } catch (raw) {
      const { message } = toIpcError(raw);
      console.warn(`Autosave of the recovery copy failed: ${message}`);
      if (!failing) editor.notify(`Autosave failed: ${message}. Save the flow to keep your edits safe.`, "error");
      failing = true;
    } finally {
      writing = false;
    }
  };
}
