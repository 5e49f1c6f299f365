// The eval commands for browser tests, behaving like the Rust contract (crates/weft-core/src/eval,
// crates/weft-eval): eval files live in an in-memory map (tests read it back as
// window.__WEFT_EVALS__), their flow and data are resolved against the eval file's folder, the
// data files are the batch mock's (cells read `<column> <row number>`), each variant's flow
// answers `You asked: <inputs> (<deployment>)` in waves with real delays, the assertions are
// checked on that answer with `${data.x}` filled in, and the report, the stored runs and their
// rows (a page at a time, a cell per variant) follow, with changes against a baseline. Cancel
// (cancel_run with the eval's id) is honoured between waves.
import type { Args } from "./client";
import type { AssertionSpec } from "./generated/AssertionSpec";
import type { EvalCell } from "./generated/EvalCell";
import type { EvalEvent } from "./generated/EvalEvent";
import type { EvalFile } from "./generated/EvalFile";
import type { EvalReport } from "./generated/EvalReport";
import type { EvalRowView } from "./generated/EvalRowView";
import type { EvalView } from "./generated/EvalView";
import type { Verdict } from "./generated/Verdict";
import type { VariantSummary } from "./generated/VariantSummary";
import type { CassetteSwitch } from "./generated/CassetteSwitch";
import type { FlowDocument } from "./generated/FlowDocument";
import type { JsonValue } from "./generated/serde_json/JsonValue";
import { dataFile } from "./mock-batch";
import { flowHandlers } from "./mock-flows";
import { type Handlers, fail, mockOptions } from "./mock-options";

export type EvalMockOptions = {
  /** Eval files by path. */
  files?: Record<string, EvalFile>;
};

declare global {
  interface Window {
    __WEFT_EVALS__?: Record<string, EvalFile>;
    /** Every eval order the app sent (without its channel), for tests to read. */
    __WEFT_EVAL_ORDERS__?: Omit<Args<"eval_run">, "events">[];
  }
}

/** The name of the one variant of an eval file that has none (weft-core's AS_IS). */
const AS_IS = "flow";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Stored = { report: EvalReport; rows: EvalRowView[]; cancelled: boolean };
const stored: Stored[] = [];
/** Cassettes recorded so far, by eval path: a replay of one never recorded fails. */
const recorded = new Set<string>();

function files(): Record<string, EvalFile> {
  window.__WEFT_EVALS__ ??= structuredClone(mockOptions().evals?.files ?? {});
  return window.__WEFT_EVALS__;
}

function folderOf(path: string): string {
  return path.slice(0, Math.max(0, path.lastIndexOf("/")));
}

/** A path of the eval file, against its folder (the mock's paths are `/`-separated). */
function resolve(evalPath: string, path: string): string {
  if (path.startsWith("/")) return path;
  const parts = folderOf(evalPath).split("/");
  for (const part of path.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== "." && part) parts.push(part);
  }
  return parts.join("/");
}

function evalFile(path: string): EvalFile {
  if (!path.endsWith(".eval.yaml")) fail("invalidInput", `${path} is not an eval file; its name ends in .eval.yaml`);
  return structuredClone(files()[path] ?? fail("notFound", `could not read ${path}: no such file; check the path`));
}

/** weft_eval::apply_variant: `node.property` set on the flow, an unknown node refused. */
function applyVariant(flow: FlowDocument, variant: string, set: Record<string, unknown>): FlowDocument {
  const out = structuredClone(flow);
  for (const [key, value] of Object.entries(set)) {
    const dot = key.indexOf(".");
    if (dot <= 0) fail("invalidInput", `variant \`${variant}\`: \`${key}\` is not \`node.property\``);
    const node = out.nodes.find((n) => n.id === key.slice(0, dot)) ?? fail("invalidInput", `variant \`${variant}\`: the flow has no node \`${key.slice(0, dot)}\``);
    node.properties = { ...(node.properties ?? {}), [key.slice(dot + 1)]: value as JsonValue };
  }
  return out;
}

const fill = (text: string, data: Record<string, string>) => text.replace(/\$\{data\.([^}]+)\}/g, (_m, c: string) => data[c.trim()] ?? "");

function verdict(spec: AssertionSpec, pass: boolean, reason: string, score = pass ? 1 : 0): Verdict {
  return { metric: spec.metric ?? spec.type, kind: spec.type, pass, score, weight: spec.weight ?? 1, reason };
}

/** The mock's answers to every assertion type, on the row's answer and numbers. */
function check(spec: AssertionSpec, answer: string, data: Record<string, string>, latency: number, deployment: string, prices: EvalFile["prices"]): Verdict {
  const value = typeof spec.value === "string" ? fill(spec.value, data) : JSON.stringify(spec.value ?? null);
  switch (spec.type) {
    case "equals":
      return verdict(spec, answer === value, answer === value ? "equal" : `\`${answer}\` ≠ \`${value}\``);
    case "contains":
      return verdict(spec, answer.includes(value), answer.includes(value) ? `contains \`${value}\`` : `does not contain \`${value}\``);
    case "icontains": {
      const pass = answer.toLowerCase().includes(value.toLowerCase());
      return verdict(spec, pass, pass ? `contains \`${value}\` (any case)` : `does not contain \`${value}\`, in any case`);
    }
    case "starts_with":
      return verdict(spec, answer.startsWith(value), answer.startsWith(value) ? `starts with \`${value}\`` : `does not start with \`${value}\``);
    case "regex": {
      const pass = new RegExp(value).test(answer);
      return verdict(spec, pass, pass ? `matches /${value}/` : `does not match /${value}/`);
    }
    case "is_json":
    case "json_schema": {
      let pass = true;
      try {
        JSON.parse(answer);
      } catch {
        pass = false;
      }
      return verdict(spec, pass, pass ? "is JSON" : "is not JSON: expected value at line 1 column 1");
    }
    case "length": {
      const n = [...answer].length;
      const pass = (spec.min === undefined || n >= spec.min) && (spec.max === undefined || n <= spec.max);
      return verdict(spec, pass, `${n} characters`);
    }
    case "latency_ms": {
      const pass = spec.max === undefined || latency <= spec.max;
      return verdict(spec, pass, `${Math.round(latency)} ms${pass ? "" : ` > ${spec.max} ms`}`);
    }
    case "tokens":
      return verdict(spec, spec.max === undefined || 20 <= spec.max, "20 tokens");
    case "cost": {
      const price = prices?.[deployment];
      if (!price) return verdict(spec, false, `no price for \`${deployment}\`; add it under prices`);
      const cost = (12 * price.input + 8 * price.output) / 1_000_000;
      return verdict(spec, spec.max === undefined || cost <= spec.max, `cost ${cost}`);
    }
    case "llm_judge":
      return verdict(spec, true, `the judge (${spec.deployment ?? "?"}): answers the question`, 0.9);
    case "similar": {
      const pass = answer.includes(value);
      return verdict(spec, pass, `cosine ${pass ? "0.91" : "0.42"}`, pass ? 0.91 : 0.42);
    }
    case "flow":
      return verdict(spec, true, "the evaluator flow passed it", 1);
  }
}

function p95(values: number[]): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)] ?? 0;
}

function summarise(variant: string, cells: EvalCell[]): VariantSummary {
  const passed = cells.filter((c) => c.pass).length;
  const metrics: Record<string, number[]> = {};
  for (const c of cells) for (const v of c.verdicts) (metrics[v.metric] ??= []).push(v.score);
  const latencies = cells.map((c) => c.latency_ms);
  return {
    variant,
    rows: cells.length,
    passed,
    failed: cells.length - passed,
    pass_rate: cells.length ? passed / cells.length : 0,
    mean_latency_ms: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
    p95_latency_ms: p95(latencies),
    prompt_tokens: 12 * cells.length,
    completion_tokens: 8 * cells.length,
    cost: null,
    metrics: Object.fromEntries(Object.entries(metrics).map(([m, s]) => [m, s.reduce((a, b) => a + b, 0) / s.length])),
  };
}

function cassetteUse(mode: CassetteSwitch, path: string, calls: number): EvalReport["cassette"] {
  if (mode === "off") return null;
  if (mode === "replay") {
    if (!recorded.has(path)) fail("notFound", `there is no cassette at ${path.replace(/\.yaml$/, ".cassette.jsonl")} yet; run once with Record (or Record missing) to make it`);
    return { mode, replayed: calls, recorded: 0, live: 0 };
  }
  const had = recorded.has(path);
  recorded.add(path);
  return mode === "fill" && had ? { mode, replayed: calls, recorded: 0, live: 0 } : { mode, replayed: 0, recorded: calls, live: 0 };
}

function find(id: string): Stored {
  return (
    stored.find((s) => s.report.eval_id === id) ??
    stored.find((s) => id.length >= 4 && s.report.eval_id.startsWith(id)) ??
    fail("notFound", `no eval run \`${id}\`; \`weft eval list\` shows the ids`)
  );
}

async function run(args: Args<"eval_run">): Promise<EvalReport> {
  const { events, ...order } = args;
  window.__WEFT_EVAL_ORDERS__ = [...(window.__WEFT_EVAL_ORDERS__ ?? []), order];
  const file = evalFile(order.path);
  const flow = flowHandlers.open_flow({ path: resolve(order.path, file.flow) }).document;
  const dataPath = resolve(order.path, file.data);
  const data = dataFile(dataPath);
  const all = file.variants?.length ? file.variants : [{ name: AS_IS, set: {} }];
  const chosen = order.variants.length ? all.filter((v) => order.variants.includes(v.name)) : all;
  for (const name of order.variants) if (!all.some((v) => v.name === name)) fail("invalidInput", `the eval has no variant \`${name}\` (its variants: ${all.map((v) => v.name).join(", ")})`);
  const flows = chosen.map((v) => ({ name: v.name, flow: applyVariant(flow, v.name, v.set) }));
  const baseline = order.baseline ? find(order.baseline) : null;
  const assertions = file.assert ?? [];
  const emit = (event: EvalEvent) => events.onmessage(event);
  const { rowsPerWave = 4, waveMs = 40 } = mockOptions().batch ?? {};
  const me: Stored = {
    report: {
      eval_id: order.evalId,
      name: file.name ?? order.path.split("/").pop() ?? order.path,
      eval_path: order.path,
      status: "running",
      message: null,
      started_at_ms: Date.now(),
      finished_at_ms: Date.now(),
      variants: [],
      thresholds: [],
      passed: false,
      baseline: baseline?.report.eval_id ?? null,
      changes: [],
      cassette: null,
    },
    rows: Array.from({ length: data.rows }, (_, row) => ({ row, inputs: {}, cells: [] })),
    cancelled: false,
  };
  me.report.cassette = cassetteUse(order.cassette, order.path, data.rows * flows.length);
  stored.unshift(me);
  emit({ type: "started", eval_id: order.evalId, variants: flows.map((f) => f.name) });
  const mapping = file.column_mapping ?? {};
  for (const { name, flow: variantFlow } of flows) {
    if (me.cancelled) break;
    const chat = variantFlow.nodes.find((n) => n.type === "chat_completion");
    const deployment = String(chat?.properties?.deployment ?? "");
    emit({ type: "batch", variant: name, event: { type: "started", batch_id: `${order.evalId}-${name}`, resumed: false, skipped: 0 } });
    const cells: EvalCell[] = [];
    for (let row = 0; row < data.rows && !me.cancelled; row += rowsPerWave) {
      await sleep(waveMs);
      const done = Math.min(data.rows, row + rowsPerWave);
      emit({
        type: "batch",
        variant: name,
        event: { type: "progress", done, succeeded: done, failed: 0, cancelled: 0, total: data.rows, rows_per_s: 50, concurrency: 8, in_flight: 4, throttles: 0, elapsed_ms: waveMs, eta_ms: null },
      });
    }
    if (me.cancelled) break;
    for (let row = 0; row < data.rows; row++) {
      const cellsOfRow = Object.fromEntries(data.columns.map((c) => [c, `${c} ${row + 1}`]));
      const inputs: Record<string, JsonValue> = {};
      for (const input of Object.keys(variantFlow.inputs ?? {})) {
        const text = mapping[input];
        inputs[input] = text === undefined ? (cellsOfRow[input] ?? null) : fill(text, cellsOfRow);
      }
      const answer = `You asked: ${Object.values(inputs).map(String).join(" ")} (${deployment})`;
      const latency = (deployment.includes("mini") ? 150 : 400) + (row % 5) * 10;
      const verdicts = assertions.map((spec) => check(spec, answer, cellsOfRow, latency, deployment, file.prices));
      const weight = verdicts.reduce((a, v) => a + v.weight, 0);
      const cell: EvalCell = {
        variant: name,
        pass: verdicts.every((v) => v.pass),
        score: weight ? verdicts.reduce((a, v) => a + v.score * v.weight, 0) / weight : 1,
        verdicts,
        cost: null,
        outputs: Object.fromEntries(Object.keys(variantFlow.outputs ?? {}).map((o) => [o, answer])),
        error: null,
        latency_ms: latency,
      };
      cells.push(cell);
      const stored = me.rows[row];
      if (stored) {
        if (!stored.cells.length) stored.inputs = inputs;
        stored.cells.push(cell);
      }
      if (row % 10 === 9 || row === data.rows - 1) emit({ type: "checking", variant: name, done: row + 1, total: data.rows });
    }
    const summary = summarise(name, cells);
    me.report.variants.push(summary);
    emit({ type: "variant_done", ...summary });
  }
  const wanted = file.thresholds?.pass_rate ?? 1;
  me.report.thresholds = me.report.variants.map((v) => ({ variant: v.variant, what: "pass_rate", wanted, got: v.pass_rate, holds: v.pass_rate >= wanted }));
  me.report.status = me.cancelled ? "cancelled" : "finished";
  me.report.passed = !me.cancelled && me.report.thresholds.every((t) => t.holds);
  me.report.finished_at_ms = Date.now();
  if (baseline)
    for (const row of me.rows)
      for (const cell of row.cells) {
        const was = baseline.rows[row.row]?.cells.find((c) => c.variant === cell.variant);
        if (was && was.pass !== cell.pass) me.report.changes.push({ variant: cell.variant, row: row.row, was_pass: was.pass, now_pass: cell.pass });
      }
  return structuredClone(me.report);
}

function view(s: Stored): EvalView {
  const { report } = s;
  return {
    id: report.eval_id,
    name: report.name,
    eval_path: report.eval_path,
    status: report.status,
    started_at_ms: report.started_at_ms,
    finished_at_ms: report.status === "running" ? null : report.finished_at_ms,
    passed: report.status === "running" ? null : report.passed,
    variants: report.variants,
    cassette: report.cassette,
  };
}

/** cancel_run for an eval's id: `false` when none with it is running. */
export function cancelEval(id: string): boolean {
  const running = stored.find((s) => s.report.eval_id === id && s.report.status === "running" && !s.cancelled);
  if (running) running.cancelled = true;
  return !!running;
}

export const evalHandlers = {
  eval_open: ({ path }) => {
    const file = evalFile(path);
    return { file, flow_path: resolve(path, file.flow), data_path: resolve(path, file.data) };
  },
  eval_save: ({ path, file }) => {
    if (!path.endsWith(".eval.yaml")) fail("invalidInput", `${path} is not an eval file; its name ends in .eval.yaml`);
    files()[path] = structuredClone(file.file);
    return null;
  },
  eval_run: run,
  eval_list: ({ limit }) => stored.slice(0, limit).map(view),
  eval_report: ({ id }) => structuredClone(find(id).report),
  eval_rows: ({ id, offset, limit }) => structuredClone(find(id).rows.slice(offset, offset + limit)),
} satisfies Partial<Handlers>;
