import { describe, expect, it } from "vitest";

import { RowPages } from "./paging";

/** A fake `batch_rows` over `total` rows whose answers the test releases by hand. */
function source(total: number) {
  const calls: { offset: number; limit: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  let label = "v1";
  const fetch = (offset: number, limit: number) =>
    new Promise<string[]>((resolve, reject) => {
      const rows = Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, i) => `${label}:${offset + i}`);
      calls.push({ offset, limit, resolve: () => resolve(rows), reject });
    });
  return {
    calls,
    fetch,
    relabel: (next: string) => (label = next),
    async answerAll() {
      while (calls.some(Boolean)) {
        const pending = calls.splice(0);
        pending.forEach((c) => c.resolve());
        await new Promise((r) => setTimeout(r, 0));
      }
    },
  };
}

describe("RowPages", () => {
  it("fetches only the pages the rows in view touch, and serves rows from them", async () => {
    const s = source(100_000);
    const pages = new RowPages(s.fetch, 100);
    pages.want(150, 180);
    expect(s.calls.map((c) => [c.offset, c.limit])).toEqual([[100, 100]]);
    expect(pages.row(150)).toBeUndefined();
    await s.answerAll();
    expect(pages.row(150)).toBe("v1:150");
    expect(pages.row(199)).toBe("v1:199");
    expect(pages.row(200)).toBeUndefined();
    // The same range again costs nothing.
    pages.want(150, 199);
    expect(s.calls).toHaveLength(0);
  });

  it("a fast scroll past many pages asks for the pages where it stops, not every page it passed", async () => {
    const s = source(100_000);
    const pages = new RowPages(s.fetch, 100);
    for (let first = 0; first < 90_000; first += 700) pages.want(first, first + 30);
    pages.want(95_000, 95_030);
    // Two requests were already running (the first ranges); nothing else was queued meanwhile.
    expect(s.calls.map((c) => c.offset)).toEqual([0, 700]);
    await s.answerAll();
    expect(pages.row(95_010)).toBe("v1:95010");
    expect(pages.size).toBe(3);
  });

  it("keeps a bounded number of pages, dropping those farthest from view", async () => {
    const s = source(100_000);
    const pages = new RowPages(s.fetch, 100, 5);
    for (let page = 0; page < 20; page++) {
      pages.want(page * 100, page * 100 + 50);
      await s.answerAll();
    }
    expect(pages.size).toBe(5);
    expect(pages.row(1950)).toBe("v1:1950");
    expect(pages.row(50)).toBeUndefined();
  });

  it("after an invalidation the rows shown stay until their fresh copy replaces them", async () => {
    const s = source(1000);
    const pages = new RowPages(s.fetch, 100);
    pages.want(0, 40);
    await s.answerAll();
    s.relabel("v2");
    pages.invalidate();
    expect(s.calls.map((c) => c.offset)).toEqual([0]);
    expect(pages.row(10)).toBe("v1:10");
    await s.answerAll();
    expect(pages.row(10)).toBe("v2:10");
  });

  it("reports a failed page, and a later want asks again", async () => {
    const s = source(1000);
    const pages = new RowPages(s.fetch, 100);
    let notified = 0;
    pages.subscribe(() => notified++);
    pages.want(0, 10);
    s.calls.splice(0)[0]?.reject(new Error("database locked"));
    await new Promise((r) => setTimeout(r, 0));
    expect(pages.error).toBeInstanceOf(Error);
    expect(notified).toBe(1);
    pages.want(0, 10);
    await s.answerAll();
    expect(pages.error).toBeNull();
    expect(pages.row(3)).toBe("v1:3");
  });

  it("drops answers that arrive after it was closed", async () => {
    const s = source(1000);
    const pages = new RowPages(s.fetch, 100);
    pages.want(0, 10);
    pages.close();
    await s.answerAll();
    expect(pages.row(3)).toBeUndefined();
  });
});
