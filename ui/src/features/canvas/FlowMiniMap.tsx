// The minimap: the flow's nodes as a few SVG paths (minimap.ts) and the viewport as a mask, with
// React Flow's own pan and zoom behaviour (XYMinimap). React Flow's <MiniMap> renders an element and
// a store subscription per node, so with 1000 nodes every store update ran 1000 selectors
// (bench/README.md). Here the paths are rebuilt only when the nodes change.
import { Panel, type ReactFlowState, useStore, useStoreApi } from "@xyflow/react";
import { XYMinimap, type XYMinimapInstance } from "@xyflow/system";
import { memo, useEffect, useRef } from "react";

import { type MinimapShapes, type Rect, minimapShapes } from "./minimap";

const WIDTH = 200;
const HEIGHT = 150;
/** Room around the nodes and the viewport, in minimap pixels. */
const OFFSET = 5;

// React Flow replaces `nodes` on every change to a node (position, size, selection), so the
// shapes are computed once per nodes array, not once per store update (a pan is one per frame),
// from the last shapes of the same flow (its node lookup) so unchanged paths keep their strings.
const shapesOf = new WeakMap<ReactFlowState["nodes"], MinimapShapes>();
const lastOf = new WeakMap<ReactFlowState["nodeLookup"], MinimapShapes>();

function shapes(s: ReactFlowState): MinimapShapes {
  const known = shapesOf.get(s.nodes);
  if (known) return known;
  const result = minimapShapes(s.nodeLookup.values(), lastOf.get(s.nodeLookup));
  shapesOf.set(s.nodes, result);
  lastOf.set(s.nodeLookup, result);
  return result;
}

function viewport(s: ReactFlowState): Rect {
  const [tx, ty, zoom] = s.transform;
  return { x: -tx / zoom, y: -ty / zoom, width: s.width / zoom, height: s.height / zoom };
}

function union(a: Rect, b: Rect | null): Rect {
  if (!b) return a;
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
}

const sameRect = (a: Rect, b: Rect) => a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height;

function FlowMiniMapInner({ ariaLabel }: { ariaLabel: string }) {
  const store = useStoreApi();
  const svg = useRef<SVGSVGElement>(null);
  const { paths, selected, bounds } = useStore(shapes);
  const view = useStore(viewport, sameRect);
  const panZoom = useStore((s) => s.panZoom);
  const flowWidth = useStore((s) => s.width);
  const flowHeight = useStore((s) => s.height);
  const translateExtent = useStore((s) => s.translateExtent);
  const box = union(view, bounds);
  // As React Flow's MiniMap: fit the nodes and the viewport, keeping the minimap's aspect ratio.
  const scale = Math.max(box.width / WIDTH, box.height / HEIGHT);
  const offset = OFFSET * scale;
  const x = box.x - (scale * WIDTH - box.width) / 2 - offset;
  const y = box.y - (scale * HEIGHT - box.height) / 2 - offset;
  const width = scale * WIDTH + offset * 2;
  const height = scale * HEIGHT + offset * 2;
  const scaleRef = useRef(scale);
  const minimap = useRef<XYMinimapInstance | null>(null);

  useEffect(() => {
    scaleRef.current = scale;
  }, [scale]);

  useEffect(() => {
    if (!svg.current || !panZoom) return;
    const instance = XYMinimap({
      domNode: svg.current,
      panZoom,
      getTransform: () => store.getState().transform,
      getViewScale: () => scaleRef.current,
    });
    minimap.current = instance;
    return () => instance.destroy();
  }, [panZoom, store]);

  useEffect(() => {
    minimap.current?.update({ translateExtent, width: flowWidth, height: flowHeight, pannable: true, zoomable: true });
  }, [panZoom, translateExtent, flowWidth, flowHeight]);

  return (
    <Panel position="bottom-right" className="react-flow__minimap" data-testid="rf__minimap">
      <svg ref={svg} width={WIDTH} height={HEIGHT} viewBox={`${x} ${y} ${width} ${height}`} className="react-flow__minimap-svg" role="img" aria-label={ariaLabel}>
        {paths.map((d, i) => (
          // By position: a path stands for the same hundred nodes until nodes are removed before them.
          <path key={i} className="react-flow__minimap-node" d={d} />
        ))}
        <path className="react-flow__minimap-node selected" d={selected} />
        <path
          className="react-flow__minimap-mask"
          d={`M${x - offset},${y - offset}h${width + offset * 2}v${height + offset * 2}h${-width - offset * 2}z M${view.x},${view.y}h${view.width}v${view.height}h${-view.width}z`}
          fillRule="evenodd"
          pointerEvents="none"
        />
      </svg>
    </Panel>
  );
}

export const FlowMiniMap = memo(FlowMiniMapInner);
