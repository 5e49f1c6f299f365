import type { InternalNode } from "@xyflow/react";
import { describe, expect, it } from "vitest";

import { NODES_PER_PATH, minimapShapes } from "./minimap";

const node = (i: number, { selected = false, x = i * 320, hidden = false } = {}) =>
  ({ id: `n${i}`, position: { x, y: 0 }, data: {}, selected, hidden, measured: { width: 240, height: 100 }, internals: { positionAbsolute: { x, y: 0 }, z: 0, userNode: {} } }) as unknown as InternalNode;
const flow = (count: number, change: (i: number) => InternalNode = (i) => node(i)) => Array.from({ length: count }, (_, i) => change(i));
const rects = (path: string) => path.match(/M/g)?.length ?? 0;

describe("the minimap's shapes", () => {
  it("draws each node once: the unselected in a path per hundred, the selected apart", () => {
    const shapes = minimapShapes(flow(250, (i) => node(i, { selected: i === 7, hidden: i === 8 })));
    // The hidden node takes no place: the first path holds 100 nodes, one of them selected.
    expect(shapes.paths.map(rects)).toEqual([NODES_PER_PATH - 1, NODES_PER_PATH, 49]);
    expect(shapes.selected).toBe("M2240 0h240v100h-240z");
    expect(shapes.bounds).toEqual({ x: 0, y: 0, width: 249 * 320 + 240, height: 100 });
  });

  it("keeps the paths of the nodes a drop did not touch: one added at the end, the selection moved", () => {
    const before = minimapShapes(flow(250, (i) => node(i, { selected: i === 120 })));
    const after = minimapShapes(flow(251, (i) => node(i, { selected: i === 250 })), before);
    expect(after.paths[0]).toBe(before.paths[0]);
    expect(after.groups[0]).toBe(before.groups[0]);
    // The node deselected and the one added are drawn again, in the paths they belong to.
    expect(after.groups[1]).not.toBe(before.groups[1]);
    expect(after.paths.map(rects)).toEqual([100, 100, 50]);
    expect(after.selected).toBe("M80000 0h240v100h-240z");
  });

  it("draws a moved node where it is now", () => {
    const before = minimapShapes(flow(150));
    const after = minimapShapes(flow(150, (i) => node(i, i === 3 ? { x: 5 } : {})), before);
    expect(after.groups[1]).toBe(before.groups[1]);
    expect(after.paths[0]).toContain("M5 0h240");
    expect(after.paths[0]).not.toContain("M960 0h240");
  });

  it("has no bounds without nodes", () => {
    expect(minimapShapes([])).toEqual({ paths: [], selected: "", bounds: null, groups: [] });
  });
});
