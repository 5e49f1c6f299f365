import { describe, expect, it } from "vitest";

import { fitClearOf } from "./fit";

type Rect = { x: number; y: number; width: number; height: number };
const onScreen = (n: Rect, v: { x: number; y: number; zoom: number }): Rect => ({ x: n.x * v.zoom + v.x, y: n.y * v.zoom + v.y, width: n.width * v.zoom, height: n.height * v.zoom });
const overlaps = (a: Rect, b: Rect) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

// The sample flow's three cards in one row, and a 740 px wide pane with the 202×152 minimap 15 px
// from its bottom-right corner.
const row = [0, 320, 640].map((x) => ({ x, y: 120, width: 240, height: 150 }));
const minimap = (width: number, height: number) => ({ x: width - 217, y: height - 167, width: 202, height: 152 });

describe("fitting the flow clear of the minimap", () => {
  it("keeps React Flow's centred fit when nothing is under the minimap", () => {
    const v = fitClearOf(row, 740, 690, minimap(740, 690), 0.5);
    expect(v.zoom).toBeCloseTo(740 / 1.1 / 880, 2);
    expect(row.some((n) => overlaps(onScreen(n, v), minimap(740, 690)))).toBe(false);
  });

  it("moves a short pane's row clear of it, the way that keeps more zoom", () => {
    const [w, h] = [740, 380];
    // Centred, the rightmost card would be under the minimap.
    const centred = { zoom: 740 / 1.1 / 880, x: 0, y: 0 };
    centred.x = w / 2 - 440 * centred.zoom;
    centred.y = h / 2 - 195 * centred.zoom;
    expect(overlaps(onScreen(row[2]!, centred), minimap(w, h))).toBe(true);
    const v = fitClearOf(row, w, h, minimap(w, h), 0.5);
    expect(row.some((n) => overlaps(onScreen(n, v), minimap(w, h)))).toBe(false);
    // Above it costs no zoom here (the row is as wide as the pane); left of it would.
    expect(v.zoom).toBeCloseTo(centred.zoom, 2);
    expect(onScreen(row[2]!, v).y + onScreen(row[2]!, v).height).toBeLessThanOrEqual(minimap(w, h).y - 12);
  });

  it("stays centred rather than push nodes out of a pane too short to clear the minimap", () => {
    // Four cards in a 224 px high pane: above the minimap there is no room even at zoom 0.5, and
    // left of it the row would need less than 0.5, so it would be pushed off the pane's left edge.
    const four = [...row, { x: 960, y: 120, width: 240, height: 150 }];
    const v = fitClearOf(four, 740, 224, minimap(740, 224), 0.5);
    const zoom = (740 - 2 * 33) / 1200;
    expect(v.zoom).toBeCloseTo(zoom, 5);
    expect(v.x).toBeCloseTo(370 - 600 * zoom, 5);
  });

  it("leaves a flow that cannot be cleared at the smallest zoom centred", () => {
    const wide = Array.from({ length: 40 }, (_, i) => ({ x: i * 300, y: 0, width: 240, height: 3000 }));
    const v = fitClearOf(wide, 740, 690, minimap(740, 690), 0.5);
    expect(v.zoom).toBe(0.5);
  });
});
