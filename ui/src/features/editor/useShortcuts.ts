// Keyboard shortcuts of the editor. Undo and redo act on the flow everywhere (field typing is part
// of the flow's history); copy, paste and friends leave text fields to the browser.
import { useEffect } from "react";

import { useHelp } from "../help/ShortcutHelp";
import { useFiles } from "../files/store";
import { keep, paste } from "./pasteboard";
import { useEditor } from "./store";

const inTextField = (target: EventTarget | null) =>
  target instanceof HTMLElement && !!target.closest("input, textarea, select, [contenteditable=true], .cm-editor");

export function useShortcuts() {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const editor = useEditor.getState();
      const files = useFiles.getState();
      const mod = event.ctrlKey || event.metaKey;
      const key = event.key.toLowerCase();
      const typing = inTextField(event.target);
      let handled = true;
      if (mod && key === "z" && !event.shiftKey) editor.undo();
      else if (mod && ((key === "z" && event.shiftKey) || (key === "y" && event.ctrlKey))) editor.redo();
      else if (mod && key === "s") void (event.shiftKey ? files.saveAs() : files.save());
      else if (mod && key === "o") void files.openFlow();
      else if (mod && key === "n") void files.newFlow();
      else if (typing || event.altKey) handled = false;
      else if (mod && key === "c") keep(editor.copySelection());
      else if (mod && key === "x") keep(editor.cutSelection());
      else if (mod && key === "v") void paste();
      else if (mod && key === "d") editor.duplicateSelection();
      else if (!mod && event.key === "?") useHelp.getState().toggle();
      else handled = false;
      if (handled) event.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
}
