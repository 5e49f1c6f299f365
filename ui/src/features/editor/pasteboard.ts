// Where copied nodes wait: the app's own clipboard (so nodes paste into another flow even where the
// system clipboard is closed to the webview) and, as JSON, the system one (so they paste into
// another Weft window).
import { pointerInFlow } from "../canvas/pointer";
import { type Clipboard, parseClipboard } from "./clipboard";
import { useEditor } from "./store";

let appClipboard: Clipboard | null = null;

export function keep(clip: Clipboard | null) {
  if (!clip) return;
  appClipboard = clip;
  navigator.clipboard?.writeText(JSON.stringify(clip)).catch(() => undefined);
}

/** Pastes at `at` (flow coordinates), else at the pointer when it is over the canvas, else offset from the originals. */
export async function paste(at?: { x: number; y: number }) {
  let clip = appClipboard;
  if (!clip) clip = parseClipboard((await navigator.clipboard?.readText().catch(() => "")) ?? "");
  if (clip) useEditor.getState().paste(clip, at ?? pointerInFlow() ?? undefined);
  else useEditor.getState().notify("Nothing to paste: copy nodes first (Ctrl+C).");
}
