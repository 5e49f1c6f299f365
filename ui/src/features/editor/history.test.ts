import { describe, expect, it } from "vitest";

import type { FlowDocument } from "../../ipc/generated/FlowDocument";
import { emptyHistory, recordEdit } from "./history";

const doc = (title: string): FlowDocument => ({ schema: 1, title, nodes: [] });

describe("editor history", () => {
  it("makes each edit a step, one step for a repeated key, and clears redo", () => {
    const [a, b, c, d] = [doc("a"), doc("b"), doc("c"), doc("d")];
    let h = recordEdit({ ...emptyHistory, document: a }, b, "prop:x");
    expect(h).toEqual({ past: [a], future: [], coalesceKey: "prop:x" });
    h = recordEdit({ ...h, document: b }, c, "prop:x");
    expect(h.past).toEqual([a]);
    h = recordEdit({ ...h, document: c, future: [d] }, d, null);
    expect(h).toEqual({ past: [a, c], future: [], coalesceKey: null });
  });

  it("keeps the redo stack when nothing changed, and the last 200 steps", () => {
    const a = doc("a");
    expect(recordEdit({ past: [], future: [a], coalesceKey: "k", document: a }, a, null)).toEqual({ past: [], future: [a], coalesceKey: null });
    const past = Array.from({ length: 200 }, (_, i) => doc(String(i)));
    const h = recordEdit({ ...emptyHistory, past, document: a }, doc("next"), null);
    expect(h.past).toHaveLength(200);
    expect(h.past[0]).toBe(past[1]);
    expect(h.past.at(-1)).toBe(a);
  });
});
