// What the canvas's context menu offers for a node (or the selection), a wire and the empty canvas.
// Each item acts through the same store actions as the toolbar and the shortcuts.
import { isRunnable } from "../editor/catalog";
import { keep, paste } from "../editor/pasteboard";
import { useEditor } from "../editor/store";
import { useRun } from "../run/store";
import type { MenuItem } from "./ContextMenu";

const mod = typeof navigator !== "undefined" && /Mac/.test(navigator.platform) ? "⌘" : "Ctrl+";

/** The selection's menu; with one runnable node selected, its runs come first. */
export function selectionMenu(): MenuItem[] {
  const editor = useEditor.getState();
  const chosen = editor.nodes.filter((n) => n.selected);
  const only = chosen.length === 1 ? chosen[0] : undefined;
  const busy = useRun.getState().phase !== "idle";
  const items: MenuItem[] = [];
  if (only && isRunnable(only.type ?? "")) {
    items.push(
      { label: "Run this node", disabled: busy, run: () => void useRun.getState().runNode(only.id, "only") },
      { label: "Run from here", disabled: busy, run: () => void useRun.getState().runNode(only.id, "from") },
      "separator",
    );
  }
  const what = chosen.length > 1 ? ` ${chosen.length} nodes` : "";
  items.push(
    { label: `Copy${what}`, hint: `${mod}C`, run: () => keep(useEditor.getState().copySelection()) },
    { label: `Cut${what}`, hint: `${mod}X`, run: () => keep(useEditor.getState().cutSelection()) },
    { label: `Duplicate${what}`, hint: `${mod}D`, run: () => useEditor.getState().duplicateSelection() },
    "separator",
    { label: `Delete${what}`, hint: "Del", danger: true, run: () => useEditor.getState().deleteSelection() },
  );
  return items;
}

export function wireMenu(edgeId: string): MenuItem[] {
  return [{ label: "Delete wire", hint: "Del", danger: true, run: () => useEditor.getState().deleteElements([], [edgeId]) }];
}

type PaneActions = { at: { x: number; y: number }; addNode: () => void; fitView: () => void };

export function paneMenu({ at, addNode, fitView }: PaneActions): MenuItem[] {
  return [
    { label: "Add node…", hint: "/", run: addNode },
    { label: "Add note", run: () => void useEditor.getState().addNote(at) },
    { label: "Paste here", hint: `${mod}V`, run: () => void paste(at) },
    "separator",
    { label: "Auto layout", run: () => useEditor.getState().autoLayout() },
    { label: "Fit to view", run: fitView },
  ];
}
