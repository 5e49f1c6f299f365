// The editor benchmark (issue 6): open a 1000-node / 1200-edge flow, pan and drag with it open,
// and add a node from the palette, in Debian's Chromium against the e2e build (Tauri IPC mocked).
// A script, not a test: it prints one line per metric with its goal and PASS/FAIL and writes
// test-results/bench.json. Run it with `npm run bench` (which builds dist-e2e first).
//
//   node bench/editor.bench.mjs [--runs N] [--drops N] [--gpu-raster] [--dist DIR] [--out FILE] [--profile-add FILE]
//
// DIR and FILE are taken from the directory the command was run in (bench/report.mjs); every
// number printed or written is shown to 0.1 (ms or fps).
// --profile-add FILE writes a CPU profile of each palette drop (FILE-1.cpuprofile, …; open them
// in Chromium's DevTools, Performance panel).
// --gpu-raster drops --disable-gpu and adds --enable-gpu-rasterization (on a machine without a GPU
// that is SwiftShader's software GL); the default uses the browser tests' flags.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { preview } from "vite";

import { bigFlow } from "./big-flow.mjs";
import { display, displayJson, median, optionPath } from "./report.mjs";

const { values: cli } = parseArgs({
  options: {
    runs: { type: "string", default: "1" },
    "gpu-raster": { type: "boolean", default: false },
    dist: { type: "string" },
    out: { type: "string" },
    "profile-add": { type: "string" },
    drops: { type: "string", default: "10" },
  },
});
const UI = new URL("..", import.meta.url).pathname;
// Paths the user gives are relative to where they ran the command; the defaults live in ui/.
const DIST = optionPath(cli.dist, { fallback: "dist-e2e", ui: UI });
const OUT = optionPath(cli.out, { fallback: "test-results/bench.json", ui: UI });
const PROFILE_ADD = optionPath(cli["profile-add"], { ui: UI });
// Like --out, --profile-add may name a directory that does not exist yet; made before the first
// run rather than failing at its first drop.
if (PROFILE_ADD) mkdirSync(dirname(PROFILE_ADD), { recursive: true });
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const NODES = 1000;
const EDGES = 1200;
const FILE = "/bench/big.weft.yaml";
const GOALS = { openMs: 500, panFps: 45, dragFps: 45, addNodeMs: 16 };
const PAN_MS = 2000;
const DRAG_MS = 2000;
const DROPS = Number(cli.drops);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

const flags = [
  "--headless", "--no-sandbox", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ...(cli["gpu-raster"] ? ["--enable-gpu-rasterization"] : ["--disable-gpu"]),
];

/** In the page: records every animation frame's timestamp until stopped. */
function startFrames() {
  const times = [];
  let on = true;
  const tick = (t) => {
    times.push(t);
    if (on) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  window.__benchFrames = () => ((on = false), times);
}

/** The main thread's busy time so far, in ms, by what it did (CDP Performance.getMetrics). */
async function mainThread(cdp) {
  const { metrics } = await cdp.send("Performance.getMetrics");
  const ms = (name) => metrics.find((m) => m.name === name).value * 1000;
  return { task: ms("TaskDuration"), script: ms("ScriptDuration"), layout: ms("LayoutDuration"), style: ms("RecalcStyleDuration") };
}

/** Frame deltas → median fps and p95 frame time. */
function frameStats(times) {
  const deltas = times.slice(1).map((t, i) => t - times[i]);
  return { frames: deltas.length, medianFps: display(1000 / median(deltas)), p95FrameMs: display(percentile(deltas, 95)), maxFrameMs: display(Math.max(...deltas)) };
}

/** Waits until the main thread has been quiet (no frame over 50 ms) for `quietMs`. */
async function settle(page, quietMs = 600) {
  await page.evaluate(
    (quiet) =>
      new Promise((resolve) => {
        let last = performance.now();
        let since = last;
        const tick = (t) => {
          if (t - last > 50) since = t;
          last = t;
          if (t - since >= quiet) resolve();
          else requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      }),
    quietMs,
  );
}

/**
 * Ctrl+O, then waits for the canvas to show the flow fitted into view: the status bar counts its
 * nodes, the viewport has moved to fit them (the editor fits each opened flow), every node React
 * Flow put in the DOM is visible and the wires are drawn. The time is taken in a task right after
 * the frame that first showed all of this, i.e. once that frame was painted. `shownMs` is the
 * same up to the first frame with the flow, before the fit.
 */
async function measureOpen(page) {
  await page.evaluate((nodes) => {
    window.__benchOpen = new Promise((resolve) => {
      let start = null;
      let shownMs = null;
      const viewport = () => document.querySelector(".react-flow__viewport")?.style.transform;
      const before = viewport();
      window.addEventListener("keydown", (e) => (start ??= e.timeStamp), { capture: true, once: true });
      const shown = () => {
        if (!document.querySelector(".statusbar")?.textContent?.includes(`${nodes} nodes`)) return false;
        const rendered = document.querySelectorAll(".react-flow__node");
        if (!document.querySelector('.react-flow__node[data-id^="n"]')) return false;
        // React Flow hides a node until it knows its size.
        for (const n of rendered) if (n.style.visibility === "hidden") return false;
        return document.querySelectorAll(".react-flow__edge").length > 0;
      };
      const tick = () => {
        if (start !== null && shown()) {
          shownMs ??= performance.now() - start;
          if (viewport() !== before) {
            const channel = new MessageChannel();
            channel.port1.onmessage = () =>
              resolve({ ms: performance.now() - start, shownMs, renderedNodes: document.querySelectorAll(".react-flow__node").length, renderedEdges: document.querySelectorAll(".react-flow__edge").length });
            channel.port2.postMessage(null);
            return;
          }
        }
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
  }, NODES);
  await page.keyboard.press("Control+o");
  return page.evaluate(() => window.__benchOpen);
}

/** A point on the empty pane (not on a node or a wire) near the middle of the canvas. */
async function panePoint(page) {
  return page.evaluate(() => {
    const box = document.querySelector(".react-flow").getBoundingClientRect();
    for (let dy = 0; dy < box.height / 2; dy += 7)
      for (let dx = 0; dx < box.width / 2; dx += 7)
        for (const [x, y] of [[box.left + box.width / 2 + dx, box.top + box.height / 2 + dy], [box.left + box.width / 2 - dx, box.top + box.height / 2 - dy]]) {
          const hit = document.elementFromPoint(x, y);
          if (hit?.classList.contains("react-flow__pane")) return { x, y };
        }
    throw new Error("no empty pane to grab");
  });
}

/**
 * Mouse down at `from`, moves along `path(t)` (t in 0..1) for `ms`, mouse up. The moves go out
 * every 8 ms (a 125 Hz mouse) over CDP without waiting for the page to handle each one, as a real
 * mouse would: a busy page gets them coalesced, and shows it in longer frames.
 */
async function gesture(page, cdp, from, ms, path) {
  const mouse = (type, x, y) =>
    cdp.send("Input.dispatchMouseEvent", { type, x, y, button: "left", buttons: type === "mouseReleased" ? 0 : 1, clickCount: 1 });
  await mouse("mouseMoved", from.x, from.y);
  await mouse("mousePressed", from.x, from.y);
  await cdp.send("Performance.enable", { timeDomain: "threadTicks" });
  const before = await mainThread(cdp);
  await page.evaluate(startFrames);
  const t0 = Date.now();
  const sent = [];
  let last = from;
  for (;;) {
    const t = (Date.now() - t0) / ms;
    if (t >= 1) break;
    const p = path(t);
    last = { x: from.x + p.x, y: from.y + p.y };
    sent.push(mouse("mouseMoved", last.x, last.y));
    await sleep(8);
  }
  await Promise.all(sent);
  const times = await page.evaluate(() => window.__benchFrames());
  const elapsed = times.at(-1) - times[0];
  const after = await mainThread(cdp);
  await mouse("mouseReleased", last.x, last.y);
  const work = Object.fromEntries(Object.keys(after).map((k) => [k, display(after[k] - before[k])]));
  return { ...frameStats(times), averageFps: display(((times.length - 1) * 1000) / elapsed), moves: sent.length, mainThreadMs: work };
}

async function measurePan(page, cdp) {
  const from = await panePoint(page);
  // Back and forth and down and up: 300 px right, 150 px down, twice.
  const result = await gesture(page, cdp, from, PAN_MS, (t) => ({ x: 300 * Math.sin(2 * Math.PI * 2 * t), y: 150 * Math.sin(2 * Math.PI * t) }));
  return result;
}

async function measureDrag(page, cdp) {
  // The header of the node nearest the middle of the canvas.
  const from = await page.evaluate(() => {
    const box = document.querySelector(".react-flow").getBoundingClientRect();
    const cx = box.left + box.width / 2;
    const cy = box.top + box.height / 2;
    let best = null;
    for (const node of document.querySelectorAll(".react-flow__node")) {
      const head = node.querySelector(".fnode-head")?.getBoundingClientRect();
      if (!head || head.left < box.left || head.right > box.right || head.top < box.top || head.bottom > box.bottom) continue;
      const d = Math.hypot(head.left + head.width / 2 - cx, head.top + head.height / 2 - cy);
      if (!best || d < best.d) best = { d, id: node.getAttribute("data-id"), x: head.left + head.width / 2, y: head.top + head.height / 2 };
    }
    return best;
  });
  if (!from) throw new Error("no node on screen to drag");
  const result = await gesture(page, cdp, from, DRAG_MS, (t) => ({ x: 120 * Math.sin(2 * Math.PI * 2 * t), y: 80 * (1 - Math.cos(2 * Math.PI * t)) }));
  const moved = await page.evaluate((id) => document.querySelector(`.react-flow__node[data-id="${id}"]`)?.getAttribute("style"), from.id);
  return { ...result, node: from.id, movedStyle: moved };
}

/**
 * One palette drop as the browser delivers it (dragstart on the item, dragover and drop on the
 * pane, in one task), then two animation frames; the main thread's TaskDuration (CDP
 * Performance.getMetrics) around it is the work it caused. The same wait without a drop is
 * measured too, as the floor of the method.
 */
async function measureAdds(page, cdp) {
  await cdp.send("Performance.enable", { timeDomain: "threadTicks" });
  const taskMs = async () => (await cdp.send("Performance.getMetrics")).metrics.find((m) => m.name === "TaskDuration").value * 1000;
  const drop = (at) =>
    page.evaluate(async ({ x, y, doDrop }) => {
      if (doDrop) {
        const transfer = new DataTransfer();
        const item = document.querySelector('[data-testid="palette-item-prompt_template"]');
        const pane = document.querySelector(".react-flow__pane");
        const fire = (target, type) => target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, composed: true, dataTransfer: transfer, clientX: x, clientY: y }));
        fire(item, "dragstart");
        fire(pane, "dragover");
        fire(pane, "drop");
        fire(item, "dragend");
      }
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    }, at);
  const box = await page.evaluate(() => {
    const r = document.querySelector(".react-flow").getBoundingClientRect();
    return { x: r.left, y: r.top, width: r.width, height: r.height };
  });
  const adds = [];
  const parts = [];
  const floor = [];
  const rendered = await page.locator(".react-flow__node").count();
  if (PROFILE_ADD) {
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: 100 });
  }
  for (let i = 0; i < DROPS; i++) {
    const at = { x: box.x + 80 + ((i * 53) % (box.width - 160)), y: box.y + 80 + ((i * 37) % (box.height - 160)), doDrop: true };
    // The validation after the previous edit (300 ms later) must not land in the window.
    await settle(page);
    const t = await taskMs();
    await drop({ ...at, doDrop: false });
    floor.push((await taskMs()) - t);
    if (PROFILE_ADD) await cdp.send("Profiler.start");
    const before = await mainThread(cdp);
    await drop(at);
    const after = await mainThread(cdp);
    if (PROFILE_ADD) {
      const { profile } = await cdp.send("Profiler.stop");
      writeFileSync(PROFILE_ADD.replace(/(\.cpuprofile)?$/, `-${i + 1}.cpuprofile`), JSON.stringify(profile));
    }
    adds.push(after.task - before.task);
    parts.push(Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - before[k]])));
  }
  const added = (await page.locator(".react-flow__node").count()) - rendered;
  const ids = await page.evaluate(() => [...document.querySelectorAll('.react-flow__node[data-id^="prompt"]')].map((n) => n.getAttribute("data-id")));
  if (ids.length < DROPS) throw new Error(`only ${ids.length} of ${DROPS} drops added a node (${added} more nodes rendered)`);
  // The median drop's work by kind (script, layout, style), to see where it goes.
  const split = Object.fromEntries(Object.keys(parts[0]).map((k) => [k, display(median(parts.map((p) => p[k])))]));
  return { medianMs: display(median(adds)), maxMs: display(Math.max(...adds)), samplesMs: adds.map((x) => display(x)), floorMedianMs: display(median(floor)), medianSplitMs: split };
}

async function oneRun(server) {
  const profile = mkdtempSync(join(tmpdir(), "weft-bench-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 800 }, args: flags });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const errors = [];
    page.on("pageerror", (err) => errors.push(err));
    const mock = { flows: { files: { [FILE]: bigFlow(NODES, EDGES) }, dialog: { open: FILE } } };
    await page.addInitScript((options) => {
      window.__WEFT_MOCK__ = options;
    }, mock);
    await page.goto(server.resolvedUrls.local[0]);
    await page.locator('.react-flow__node[data-id="chat"]').waitFor();
    await page.getByTestId("node-problems-chat").waitFor();
    await settle(page);

    // The same pan over the 3-node sample flow: what this machine manages with an almost empty canvas.
    const cdp = await context.newCDPSession(page);
    const panSample = await measurePan(page, cdp);
    await settle(page);

    const open = await measureOpen(page);
    // The first validation of the big flow comes 300 ms after the open; let it pass.
    await sleep(400);
    await settle(page);
    const pan = await measurePan(page, cdp);
    await settle(page);
    const drag = await measureDrag(page, cdp);
    await settle(page);
    const add = await measureAdds(page, cdp);
    if (errors.length) throw new Error(`the page threw: ${errors.map(String).join("; ")}`);
    return { open, panSample, pan, drag, add };
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

const server = await preview({
  root: UI,
  logLevel: "warn",
  build: { outDir: DIST },
  preview: { port: 0, host: "127.0.0.1", strictPort: false },
});
const runs = [];
let browserVersion = "";
try {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: flags });
  browserVersion = browser.version();
  await browser.close();
  for (let i = 0; i < Number(cli.runs); i++) {
    const run = await oneRun(server);
    runs.push(run);
    console.log(
      `run ${i + 1}: sample-flow pan ${run.panSample.medianFps} fps · open ${display(run.open.ms)} ms (first shown ${display(run.open.shownMs)} ms) · pan ${run.pan.medianFps} fps (p95 ${run.pan.p95FrameMs} ms) · drag ${run.drag.medianFps} fps (p95 ${run.drag.p95FrameMs} ms) · add ${run.add.medianMs} ms (max ${run.add.maxMs})`,
    );
  }
} finally {
  await server.close();
}

const all = (pick) => runs.map(pick);
const spread = (xs) => `${xs.map((x) => display(x)).join(" / ")}`;
const verdict = (ok) => (ok ? "PASS" : "FAIL");
const summary = {
  openMs: { goal: `<= ${GOALS.openMs} ms`, median: display(median(all((r) => r.open.ms))), runs: all((r) => display(r.open.ms)) },
  panFps: { goal: `>= ${GOALS.panFps} fps median`, median: display(median(all((r) => r.pan.medianFps))), runs: all((r) => r.pan.medianFps), p95FrameMs: all((r) => r.pan.p95FrameMs) },
  dragFps: { goal: `>= ${GOALS.dragFps} fps median`, median: display(median(all((r) => r.drag.medianFps))), runs: all((r) => r.drag.medianFps), p95FrameMs: all((r) => r.drag.p95FrameMs) },
  addNodeMs: { goal: `<= ${GOALS.addNodeMs} ms main-thread`, median: display(median(all((r) => r.add.medianMs))), runs: all((r) => r.add.medianMs), maxMs: all((r) => r.add.maxMs) },
};
summary.openMs.pass = summary.openMs.median <= GOALS.openMs;
summary.panFps.pass = summary.panFps.median >= GOALS.panFps;
summary.dragFps.pass = summary.dragFps.median >= GOALS.dragFps;
summary.addNodeMs.pass = summary.addNodeMs.median <= GOALS.addNodeMs;

console.log(`\nWeft editor benchmark · ${NODES} nodes / ${EDGES} edges · Chromium ${browserVersion} · ${cpus().length} CPUs · ${cli["gpu-raster"] ? "GPU rasterization on" : "--disable-gpu"} · ${runs.length} run(s)`);
console.log(`open flow        ${verdict(summary.openMs.pass)}  ${summary.openMs.median} ms median (runs ${spread(summary.openMs.runs)})   goal ${summary.openMs.goal}`);
console.log(`pan canvas       ${verdict(summary.panFps.pass)}  ${summary.panFps.median} fps median (runs ${spread(summary.panFps.runs)}; p95 frame ${spread(summary.panFps.p95FrameMs)} ms)   goal ${summary.panFps.goal}`);
console.log(`drag node        ${verdict(summary.dragFps.pass)}  ${summary.dragFps.median} fps median (runs ${spread(summary.dragFps.runs)}; p95 frame ${spread(summary.dragFps.p95FrameMs)} ms)   goal ${summary.dragFps.goal}`);
console.log(`add from palette ${verdict(summary.addNodeMs.pass)}  ${summary.addNodeMs.median} ms median (runs ${spread(summary.addNodeMs.runs)}; max ${spread(summary.addNodeMs.maxMs)} ms)   goal ${summary.addNodeMs.goal}`);

mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(
  OUT,
  displayJson({ date: new Date().toISOString(), chromium: browserVersion, cpus: cpus().length, cpuModel: cpus()[0]?.model, flags, nodes: NODES, edges: EDGES, goals: GOALS, summary, runs }),
);
console.log(`\nwrote ${OUT}`);
if (![summary.openMs, summary.panFps, summary.dragFps, summary.addNodeMs].every((m) => m.pass)) process.exitCode = 1;
