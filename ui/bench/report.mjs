// How the editor benchmark turns its options into paths and its measurements into printed and
// written numbers: one place for each, so every path option and every number is treated alike.
import { isAbsolute, resolve } from "node:path";

/**
 * The directory the user ran the command from. `npm run bench` runs the script in ui/ whatever the
 * user's directory was, and passes that directory as INIT_CWD; `node bench/…` runs it where it was
 * typed.
 */
export function invocationDir(env = process.env, cwd = process.cwd()) {
  return env.npm_lifecycle_event && env.INIT_CWD ? env.INIT_CWD : cwd;
}

/**
 * A path option's file: a path the user gave is taken from the directory they ran the command
 * from (an absolute one as it is); with no option, `fallback` is taken from ui/, where the README
 * says the default lives. `join` would put an absolute `--out /tmp/x.json` under ui/ as well.
 */
export function optionPath(given, { fallback, ui, from = invocationDir() }) {
  if (given !== undefined) return isAbsolute(given) ? given : resolve(from, given);
  return fallback === undefined ? undefined : resolve(ui, fallback);
}

/**
 * A measurement as the benchmark shows it: ms and fps to 0.1, as in the README's figures. Sums and
 * medians of already rounded values (19.31 and 19.32 → 19.314999999999998) go through it again.
 */
export function display(x) {
  return Math.round(x * 10) / 10;
}

/** JSON text of `value` with every number shown with `display`. Counts stay counts. */
export function displayJson(value) {
  return JSON.stringify(value, (_key, v) => (typeof v === "number" ? display(v) : v), 2) + "\n";
}

/** The middle value of `xs` (the mean of the two middle ones for an even count). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Two builds' palette drops measured in alternating sets (bench/alternate.mjs), each set as
 * `{ build: "old" | "new", runsMs }`: per build the set medians and the median and range of all its
 * runs, and new / old of those medians. Both builds saw the same machine only because their sets
 * alternate, so the ratio is the number to compare; either median alone moves with the machine.
 */
export function compareDrops(sets) {
  const runsOf = (build) => sets.filter((s) => s.build === build).flatMap((s) => s.runsMs);
  const of = (build) => {
    const runs = runsOf(build);
    const setMedians = sets.filter((s) => s.build === build).map((s) => display(median(s.runsMs)));
    return { sets: setMedians, median: display(median(runs)), min: display(Math.min(...runs)), max: display(Math.max(...runs)) };
  };
  return { old: of("old"), new: of("new"), ratio: Math.round((median(runsOf("new")) / median(runsOf("old"))) * 100) / 100 };
}
