// React Flow measures every node it mounts: its ResizeObserver reports each newly observed node
// with `force: true`, and `updateNodeInternals` then reads the node's handles from the DOM, walks
// every node's absolute position and updates the store, which runs every subscriber (with a
// 1000-node flow: the visible-node and visible-wire selectors over all nodes and wires, the
// selection listener, each card, handle and wire on screen) and renders again. The editor gives
// React Flow each card's size and handles up front (`toCanvasNode`, checked against the DOM by a
// browser test), so for a card whose DOM size is the one it was given that pass changes nothing: a
// palette drop paid for it a second time after adopting the new nodes (bench/README.md). This
// leaves such updates out and passes every other on unchanged.
import { type InternalNode, type ReactFlowState, useStoreApi } from "@xyflow/react";
import { getDimensions } from "@xyflow/system";

type UpdateNodeInternals = ReactFlowState["updateNodeInternals"];
type Updates = Parameters<UpdateNodeInternals>[0];

/**
 * Whether measuring `element` would tell React Flow nothing new about `node`: it is shown, its
 * handles are the ones the editor estimated (a node the DOM has overruled carries none, and React
 * Flow keeps what it read), and the DOM's size is the size React Flow already has.
 */
export function alreadyKnown(node: InternalNode | undefined, element: Pick<HTMLElement, "offsetWidth" | "offsetHeight">): boolean {
  if (!node || node.hidden || node.internals.userNode.handles === undefined || !node.internals.handleBounds) return false;
  const { width, height } = getDimensions(element as HTMLDivElement);
  return width === node.measured.width && height === node.measured.height;
}

/** `updates` without the nodes whose size and handles React Flow already has. */
export function neededUpdates(updates: Updates, nodeLookup: ReactFlowState["nodeLookup"]): Updates {
  let needed: Updates | null = null;
  for (const [id, update] of updates) {
    if (!alreadyKnown(nodeLookup.get(id), update.nodeElement)) continue;
    needed ??= new Map(updates);
    needed.delete(id);
  }
  return needed ?? updates;
}

const filtered = new WeakSet<UpdateNodeInternals>();

type Store = { getState: () => ReactFlowState; setState: (partial: Partial<ReactFlowState>) => void };

/**
 * Makes the store's `updateNodeInternals` skip nodes whose size and handles it already has. Must
 * run before React Flow's node renderer first renders: its ResizeObserver keeps the action it saw
 * then. A queued fitView waits for a measurement, so while one is queued nothing is skipped.
 */
export function skipKnownMeasurements(store: Store): void {
  const original = store.getState().updateNodeInternals;
  if (filtered.has(original)) return;
  const update: UpdateNodeInternals = (updates, params) => {
    const { fitViewQueued, nodeLookup } = store.getState();
    const needed = fitViewQueued ? updates : neededUpdates(updates, nodeLookup);
    if (needed.size) original(needed, params);
  };
  filtered.add(update);
  store.setState({ updateNodeInternals: update });
}

/** `skipKnownMeasurements` for the flow of the surrounding provider; call it in a component above `<ReactFlow>`. */
export function useSkipKnownMeasurements(): void {
  // In render, not in an effect: effects run after React Flow's children first rendered. It wraps
  // the action once per store, so later renders only look it up.
  skipKnownMeasurements(useStoreApi());
}
