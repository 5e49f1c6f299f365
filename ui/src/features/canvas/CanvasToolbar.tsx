import { useReactFlow } from "@xyflow/react";

import { useEditor } from "../editor/store";
import { useFitFlow } from "./fit";

/** Arrange the canvas: align the selection, lay the flow out left to right, add a note, fit. */
export function CanvasToolbar() {
  const selectedCount = useEditor((s) => s.nodes.reduce((n, node) => n + (node.selected ? 1 : 0), 0));
  const align = useEditor((s) => s.align);
  const autoLayout = useEditor((s) => s.autoLayout);
  const addNote = useEditor((s) => s.addNote);
  const { screenToFlowPosition } = useReactFlow();
  const fitFlow = useFitFlow();
  const canAlign = selectedCount > 1;
  return (
    <div className="canvas-toolbar" role="toolbar" aria-label="Arrange">
      <button type="button" className="btn btn-small" disabled={!canAlign} onClick={() => align("left")} aria-label="Align left edges" title="Align left edges">
        ⇤ Left
      </button>
      <button type="button" className="btn btn-small" disabled={!canAlign} onClick={() => align("top")} aria-label="Align top edges" title="Align top edges">
        ⤒ Top
      </button>
      <button type="button" className="btn btn-small" disabled={!canAlign} onClick={() => align("center")} aria-label="Align centres" title="Align centres">
        ↔ Centre
      </button>
      <button
        type="button"
        className="btn btn-small"
        data-testid="auto-layout"
        onClick={() => {
          autoLayout();
          requestAnimationFrame(() => fitFlow(200));
        }}
      >
        Auto layout
      </button>
      <button
        type="button"
        className="btn btn-small"
        data-testid="add-note"
        onClick={() => {
          const box = document.querySelector(".canvas")?.getBoundingClientRect();
          addNote(screenToFlowPosition({ x: (box?.left ?? 0) + 80, y: (box?.top ?? 0) + 80 }));
        }}
      >
        + Note
      </button>
    </div>
  );
}
