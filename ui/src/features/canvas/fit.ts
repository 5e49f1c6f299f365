// Fitting the flow into view clear of the minimap. React Flow's fitView centres the nodes in the
// whole pane, so a flow one row high that is as wide as the pane puts its rightmost node under the
// minimap in the bottom-right corner when the pane is short. Here such a fit is replaced by the
// better of two that keep every node left of the minimap or above it.
import { type Rect, type Viewport, getViewportForBounds, useReactFlow, useStoreApi } from "@xyflow/react";
import { useCallback } from "react";

/** As the editor has always fitted: never magnified past 100 %. */
export const FIT_MAX_ZOOM = 1;
/** React Flow's own fitView padding: a tenth of the pane's size, shared by two sides. */
const PADDING = 0.1;
/** Room between the nodes and the minimap, in screen pixels. */
const GAP = 12;

const overlaps = (a: Rect, b: Rect) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

function union(rects: Rect[]): Rect {
  const [x, y] = [Math.min(...rects.map((r) => r.x)), Math.min(...rects.map((r) => r.y))];
  return { x, y, width: Math.max(...rects.map((r) => r.x + r.width)) - x, height: Math.max(...rects.map((r) => r.y + r.height)) - y };
}

/**
 * The viewport showing `nodes` (flow coordinates) in a `width`×`height` pane, as fitView would,
 * unless a node would then lie under `cover` (the minimap's box in the pane's pixels).
 */
export function fitClearOf(nodes: Rect[], width: number, height: number, cover: Rect | null, minZoom: number, maxZoom = FIT_MAX_ZOOM): Viewport {
  const bounds = union(nodes);
  const fit = (padding: Parameters<typeof getViewportForBounds>[5]) => getViewportForBounds(bounds, width, height, minZoom, maxZoom, padding);
  const onScreen = (v: Viewport) => nodes.map((n) => ({ x: n.x * v.zoom + v.x, y: n.y * v.zoom + v.y, width: n.width * v.zoom, height: n.height * v.zoom }));
  const pane = { x: -1, y: -1, width: width + 2, height: height + 2 };
  const inPane = (r: Rect) => r.x >= pane.x && r.y >= pane.y && r.x + r.width <= pane.x + pane.width && r.y + r.height <= pane.y + pane.height;
  const centred = fit(PADDING);
  if (!cover || onScreen(centred).every((r) => !overlaps(r, cover))) return centred;
  const sides = { top: PADDING, right: PADDING, bottom: PADDING, left: PADDING };
  const candidates = [
    fit({ ...sides, right: `${Math.max(0, width - cover.x + GAP)}px` }),
    fit({ ...sides, bottom: `${Math.max(0, height - cover.y + GAP)}px` }),
  ].filter((v) => onScreen(v).every((r) => inPane(r) && !overlaps(r, cover)));
  // Where the smallest zoom cannot fit the flow beside the minimap (or at all), it stays centred.
  return candidates.sort((a, b) => b.zoom - a.zoom)[0] ?? centred;
}

/** Fits the flow into view clear of the minimap; `duration` animates it. */
export function useFitFlow(): (duration?: number) => void {
  const { getNodes, setViewport } = useReactFlow();
  const store = useStoreApi();
  return useCallback(
    (duration) => {
      const { width, height, minZoom, domNode } = store.getState();
      const nodes = getNodes()
        .filter((n) => !n.hidden)
        .map((n) => ({ x: n.position.x, y: n.position.y, width: n.measured?.width ?? 0, height: n.measured?.height ?? 0 }));
      if (!nodes.length || !width || !height) return;
      const pane = domNode?.getBoundingClientRect();
      const minimap = domNode?.querySelector(".react-flow__minimap")?.getBoundingClientRect();
      const cover = pane && minimap ? { x: minimap.left - pane.left, y: minimap.top - pane.top, width: minimap.width, height: minimap.height } : null;
      void setViewport(fitClearOf(nodes, width, height, cover, minZoom), duration ? { duration } : undefined);
    },
    [getNodes, setViewport, store],
  );
}
