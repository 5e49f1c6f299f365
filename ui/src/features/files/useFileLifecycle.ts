// What runs for the whole session: start-up (recovery or the sample), validation after edits,
// autosave of a recovery copy, the window title with its dirty marker, and the close prompt.
import { useEffect } from "react";

import { ipc } from "../../ipc/client";
import { appWindow } from "../../ipc/dialog";
import { toIpcError } from "../../ipc/errors";
import type { FlowDocument } from "../../ipc/generated/FlowDocument";
import { selectDirty, useEditor } from "../editor/store";
import { recoveryAutosave } from "./autosave";
import { fileName, useFiles } from "./store";

const VALIDATE_AFTER_MS = 300;
const AUTOSAVE_EVERY_MS = 5000;

export function useFileLifecycle() {
  useEffect(() => {
    void useFiles.getState().start();
  }, []);

  // Validate in Rust shortly after the last edit; a stale answer is dropped.
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const validate = (document: FlowDocument) => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        try {
          const diagnostics = await ipc.validateFlow(document);
          if (useEditor.getState().document === document) useEditor.getState().setDiagnostics(diagnostics);
        } catch (raw) {
          if (useEditor.getState().document === document)
            useEditor.getState().setDiagnostics([{ severity: "error", node: null, property: null, message: `The flow could not be checked: ${toIpcError(raw).message}` }]);
        }
      }, VALIDATE_AFTER_MS);
    };
    validate(useEditor.getState().document);
    const unsubscribe = useEditor.subscribe((s, previous) => {
      if (s.document !== previous.document) validate(s.document);
    });
    return () => (clearTimeout(timer), unsubscribe());
  }, []);

  // A recovery copy while there are unsaved edits, so a crash loses at most a few seconds.
  useEffect(() => {
    const autosave = recoveryAutosave();
    const timer = setInterval(() => void autosave(), AUTOSAVE_EVERY_MS);
    return () => clearInterval(timer);
  }, []);

  const title = useEditor((s) => s.document.title || "Untitled flow");
  const path = useEditor((s) => s.path);
  const dirty = useEditor(selectDirty);
  useEffect(() => {
    const text = `${dirty ? "• " : ""}${title}${path ? ` — ${fileName(path)}` : ""} — Weft`;
    document.title = text;
    appWindow.setTitle(text).catch(() => undefined);
  }, [title, path, dirty]);

  useEffect(() => {
    let unlisten: (() => void) | undefined;
    let cancelled = false;
    appWindow
      .onCloseRequested(async (event) => {
        if (!(await useFiles.getState().confirmDiscard())) event.preventDefault();
        else await ipc.clearRecovery().catch(() => undefined);
      })
      .then((stop) => (cancelled ? stop() : (unlisten = stop)))
      .catch(() => undefined);
    return () => {
      cancelled = true;
      unlisten?.();
    };
  }, []);
}
