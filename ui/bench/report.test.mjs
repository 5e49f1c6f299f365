// The editor benchmark's path options and number display (bench/report.mjs), which the script
// itself (slow, Chromium) has no test for.
import { describe, expect, it } from "vitest";

import { compareDrops, display, displayJson, invocationDir, median, optionPath } from "./report.mjs";

const UI = "/repo/ui/";

describe("optionPath", () => {
  it("takes a relative path from the directory the command was run in, not ui/", () => {
    expect(optionPath("out/bench.json", { fallback: "test-results/bench.json", ui: UI, from: "/home/me/elsewhere" })).toBe(
      "/home/me/elsewhere/out/bench.json",
    );
  });

  it("keeps an absolute path as it is (join put it under ui/)", () => {
    expect(optionPath("/tmp/bench.json", { fallback: "test-results/bench.json", ui: UI, from: "/home/me" })).toBe("/tmp/bench.json");
  });

  it("puts the default in ui/ wherever the command was run", () => {
    expect(optionPath(undefined, { fallback: "dist-e2e", ui: UI, from: "/home/me" })).toBe("/repo/ui/dist-e2e");
    expect(optionPath(undefined, { ui: UI, from: "/home/me" })).toBeUndefined();
  });
});

describe("invocationDir", () => {
  it("is the user's directory under npm run, which runs the script in ui/", () => {
    expect(invocationDir({ npm_lifecycle_event: "bench", INIT_CWD: "/home/me" }, UI)).toBe("/home/me");
  });

  it("is the working directory when the script is run with node", () => {
    expect(invocationDir({ INIT_CWD: "/stale" }, "/home/me")).toBe("/home/me");
  });
});

describe("display", () => {
  it("shows a median of rounded values to 0.1, as the README does", () => {
    expect(display((19.31 + 19.32) / 2)).toBe(19.3);
    expect(String(display(19.314999999999998))).toBe("19.3");
    expect(display(59.94)).toBe(59.9);
    expect(display(188)).toBe(188);
  });

  it("is applied to every number of the written JSON, nested or in lists", () => {
    const parsed = JSON.parse(displayJson({ cpus: 2, summary: { addNodeMs: { median: 19.314999999999998, runs: [19.31, 19.32] } } }));
    expect(parsed).toEqual({ cpus: 2, summary: { addNodeMs: { median: 19.3, runs: [19.3, 19.3] } } });
  });
});

describe("compareDrops", () => {
  it("gives each build's set medians, the median of all its runs and new / old", () => {
    const sets = [
      { build: "old", runsMs: [13.9, 16.1, 15.1] },
      { build: "new", runsMs: [13.6, 13.3, 12.9] },
      { build: "old", runsMs: [15, 15.3, 16] },
      { build: "new", runsMs: [13.4, 13, 13.8] },
    ];
    expect(compareDrops(sets)).toEqual({
      old: { sets: [15.1, 15.3], median: 15.2, min: 13.9, max: 16.1 },
      new: { sets: [13.3, 13.4], median: 13.4, min: 12.9, max: 13.8 },
      ratio: 0.88,
    });
  });

  it("takes the middle of an even count as the mean of the two middle runs", () => {
    expect(median([16, 13, 15, 14])).toBe(14.5);
  });
});
