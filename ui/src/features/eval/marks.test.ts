import { describe, expect, it } from "vitest";

import type { EvalRowView } from "../../ipc/generated/EvalRowView";
import { RowPages } from "../batch/paging";
import { type MarkedRow, markOf, markPage, markedPages } from "./marks";

const cell = (variant: string, pass: boolean) => ({ variant, pass, score: pass ? 1 : 0, verdicts: [], cost: null, outputs: {}, error: null, latency_ms: 100 });
/** A row with a verdict per variant; `null`: the variant has none on the row. */
const row = (n: number, cells: Record<string, boolean | null>): EvalRowView => ({
  row: n,
  inputs: {},
  cells: Object.entries(cells).flatMap(([v, p]) => (p === null ? [] : [cell(v, p)])),
});

describe("regression marks", () => {
  it("a pass that now fails regressed, a fail that now passes is fixed, the rest carry no mark", () => {
    expect(markOf(true, false)).toBe("regressed");
    expect(markOf(false, true)).toBe("fixed");
    expect(markOf(true, true)).toBeNull();
    expect(markOf(false, false)).toBeNull();
    expect(markOf(null, false)).toBeNull();
    expect(markOf(true, null)).toBeNull();
  });

  it("matches the baseline's rows by row number, per variant", () => {
    const now = [row(0, { mini: false, large: true }), row(1, { mini: true, large: true }), row(2, { mini: true, large: null })];
    const before = [row(1, { mini: false, large: true }), row(0, { mini: true, large: false })];
    expect(markPage(now, before, ["mini", "large"]).map((r) => r.marks)).toEqual([
      { mini: "regressed", large: "fixed" },
      { mini: "fixed", large: null },
      { mini: null, large: null },
    ]);
    expect(markPage(now, null, ["mini"]).map((r) => r.marks)).toEqual([{ mini: null }, { mini: null }, { mini: null }]);
  });

  it("pages fetch the baseline's same rows beside the run's, and only the pages in view", async () => {
    const asked: string[] = [];
    const rows = async (id: string, offset: number, limit: number) => {
      asked.push(`${id}@${offset}+${limit}`);
      return Array.from({ length: limit }, (_, i) => row(offset + i, { v: id === "now" ? (offset + i) % 2 === 0 : true }));
    };
    const pages = new RowPages<MarkedRow>(markedPages(rows, "now", "base", ["v"]), 10);
    const arrived = new Promise<void>((resolve) => pages.subscribe(resolve));
    pages.want(20, 25);
    await arrived;
    expect(asked.sort()).toEqual(["base@20+10", "now@20+10"]);
    expect(pages.row(21)?.marks).toEqual({ v: "regressed" });
    expect(pages.row(22)?.marks).toEqual({ v: null });
    expect(pages.row(5)).toBeUndefined();
  });
});
