// Keyboard shortcuts of the editor. Undo and redo act on the flow everywhere (field typing is part
// of the flow's history); copy, paste and friends leave text fields to the browser.
import { useEffect } from "react";

import { useHelp } from "../help/ShortcutHelp";
import { useFiles } from "../files/store";
import { type Clipboard, parseClipboard } from "./clipboard";
import { useEditor } from "./store";

/** The app's own clipboard, so nodes paste into another flow even where the system one is closed. */
let appClipboard: Clipboard | null = null;

function keep(clip: Clipboard | null) {
  if (!clip) return;
  appClipboard = clip;
  navigator.clipboard?.writeText(JSON.stringify(clip)).catch(() => undefined);
}

async function paste() {
  let clip = appClipboard;
  if (!clip) clip = parseClipboard((await navigator.clipboard?.readText().catch(() => "")) ?? "");
  if (clip) useEditor.getState().paste(clip);
}

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
