// Compares two e2e builds' palette drops on a shared machine: sets of editor.bench.mjs runs,
// alternated old, new, old, new… so that both builds see the same load, then each build's set
// medians, the median of all its runs and new / old (bench/report.mjs compareDrops). A script you
// run by hand, like the benchmark.
//
//   node bench/alternate.mjs --old DIR --new DIR [--sets N] [--runs N] [--out FILE]
//
// DIR and FILE are taken from the directory the command was run in. Each set line shows the
// one-minute load average when the set started, since other work on the machine moves every
// number (bench/README.md). FILE gets every set's runs, loads and the comparison as JSON.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";

import { compareDrops, display, displayJson, optionPath } from "./report.mjs";

const { values: cli } = parseArgs({
  options: {
    old: { type: "string" },
    new: { type: "string" },
    sets: { type: "string", default: "3" },
    runs: { type: "string", default: "3" },
    out: { type: "string" },
  },
});
if (!cli.old || !cli.new) {
  console.error("usage: node bench/alternate.mjs --old DIR --new DIR [--sets N] [--runs N] [--out FILE]");
  process.exit(2);
}
const UI = new URL("..", import.meta.url).pathname;
const dists = { old: optionPath(cli.old, { ui: UI }), new: optionPath(cli.new, { ui: UI }) };
const OUT = optionPath(cli.out, { ui: UI });
const scratch = mkdtempSync(join(tmpdir(), "weft-alternate-"));
const sets = [];
try {
  for (let i = 1; i <= Number(cli.sets); i++) {
    for (const build of ["old", "new"]) {
      const load = loadavg()[0];
      const started = new Date().toISOString();
      const out = join(scratch, `${build}-${i}.json`);
      // The benchmark exits with 1 when a goal fails; its JSON is written either way.
      const child = spawnSync(process.execPath, [join(UI, "bench/editor.bench.mjs"), "--runs", cli.runs, "--dist", dists[build], "--out", out], { stdio: ["ignore", "ignore", "inherit"] });
      if (child.error) throw child.error;
      const result = JSON.parse(readFileSync(out, "utf8"));
      const set = { build, started, load: display(load), runsMs: result.summary.addNodeMs.runs, scriptMs: result.runs.map((r) => r.add.medianSplitMs.script) };
      sets.push(set);
      console.log(`set ${i} ${build.padEnd(3)} load ${set.load.toFixed(1).padStart(4)}  drop ${set.runsMs.join(" / ")} ms (script ${set.scriptMs.join(" / ")} ms)`);
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
const comparison = compareDrops(sets);
for (const build of ["old", "new"]) {
  const c = comparison[build];
  console.log(`${build}: sets ${c.sets.join(" / ")} ms; median of all runs ${c.median} ms (runs ${c.min}–${c.max})`);
}
console.log(`new / old: ${comparison.ratio}`);
if (OUT) {
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, displayJson({ dists, sets, comparison }));
  console.log(`wrote ${OUT}`);
}
