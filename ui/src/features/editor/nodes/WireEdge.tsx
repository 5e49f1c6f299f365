// A wire with a delete button at its middle, shown on hover or when the wire is selected.
import { BaseEdge, type EdgeProps, getBezierPath } from "@xyflow/react";
import { memo } from "react";

import type { Wire } from "../graph";
import { useEditor } from "../store";
import "./nodes.css";

function WireEdgeInner({ id, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, selected, markerEnd }: EdgeProps<Wire>) {
  const [path, labelX, labelY] = getBezierPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition });
  const deleteElements = useEditor((s) => s.deleteElements);
  return (
    <>
      <BaseEdge id={id} path={path} markerEnd={markerEnd} className={selected ? "wire wire-selected" : "wire"} />
      <g
        className="wire-delete"
        transform={`translate(${labelX} ${labelY})`}
        role="button"
        aria-label="Delete wire"
        data-testid={`delete-wire-${id}`}
        onClick={(event) => {
          event.stopPropagation();
          deleteElements([], [id]);
        }}
      >
        <circle r={8} />
        <path d="M-3 -3 L3 3 M3 -3 L-3 3" />
      </g>
    </>
  );
}

export const WireEdge = memo(WireEdgeInner);
