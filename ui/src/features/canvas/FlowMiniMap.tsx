// The minimap: the flow's nodes as one SVG path and the viewport as a mask, with React Flow's own
// pan and zoom behaviour (XYMinimap). React Flow's <MiniMap> renders an element and a store
// subscription per node, so with 1000 nodes every store update ran 1000 selectors (bench/README.md).
// Here the path is rebuilt only when the nodes change.
import { Panel, type ReactFlowState, useStore, useStoreApi } from "@xyflow/react";
import { XYMinimap, type XYMinimapInstance } from "@xyflow/system";
import { memo, useEffect, useRef } from "react";

const WIDTH = 200;
const HEIGHT = 150;
/** Room around the nodes and the viewport, in minimap pixels. */
const OFFSET = 5;

type Rect = { x: number; y: number; width: number; height: number };
type Shapes = { nodes: string; selected: string; bounds: Rect | null };

// React Flow replaces `nodes` on every change to a node (position, size, selection), so the
// shapes are computed once per nodes array, not once per store update (a pan is one per frame).
const shapesOf = new WeakMap<ReactFlowState["nodes"], Shapes>();

function shapes(s: ReactFlowState): Shapes {
  const known = shapesOf.get(s.nodes);
  if (known) return known;
  let nodes = "";
  let selected = "";
  let bounds: Rect | null = null;
  let [x1, y1, x2, y2] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const node of s.nodeLookup.values()) {
    if (node.hidden) continue;
    const { x, y } = node.internals.positionAbsolute;
    const width = node.measured.width ?? node.width ?? node.initialWidth ?? 0;
    const height = node.measured.height ?? node.height ?? node.initialHeight ?? 0;
    const rect = `M${Math.round(x)} ${Math.round(y)}h${Math.round(width)}v${Math.round(height)}h${-Math.round(width)}z`;
    if (node.selected) selected += rect;
    else nodes += rect;
    [x1, y1, x2, y2] = [Math.min(x1, x), Math.min(y1, y), Math.max(x2, x + width), Math.max(y2, y + height)];
  }
  if (x1 !== Infinity) bounds = { x: x1, y: y1, width: x2 - x1, height: y2 - y1 };
  const result = { nodes, selected, bounds };
  shapesOf.set(s.nodes, result);
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
  const { nodes, selected, bounds } = useStore(shapes);
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
        <path className="react-flow__minimap-node" d={nodes} />
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
