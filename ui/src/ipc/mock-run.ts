// The run commands for browser tests, behaving like the Rust contract: validation first, one run at
// a time, events streamed over the Channel with real delays, cancel honoured between events,
// partial runs only on reusable results, and every run kept in a history with secrets redacted.
// A run with the cassette switch on records its model calls (one per chat node) beside the flow,
// or replays them from there (refused when nothing was recorded for the flow yet), and says so in
// its summary and in history. "Add to dataset" appends a stored run's inputs to a data file,
// kept in window.__WEFT_DATASETS__ for tests to read.
import { isRunnable } from "../features/editor/catalog";
import type { Args } from "./client";
import type { CassetteUse } from "./generated/CassetteUse";
import type { Diagnostic } from "./generated/Diagnostic";
import type { FlowDocument } from "./generated/FlowDocument";
import type { Node } from "./generated/Node";
import type { NodeRecord } from "./generated/NodeRecord";
import type { RunEvent } from "./generated/RunEvent";
import type { RunStatus } from "./generated/RunStatus";
import type { RunSummary } from "./generated/RunSummary";
import type { RunView } from "./generated/RunView";
import type { JsonValue } from "./generated/serde_json/JsonValue";
import { savedConnections } from "./mock-connections";
import { cancelEval } from "./mock-eval";
import { type Handlers, fail, mockOptions } from "./mock-options";
import { activeProfile } from "./mock-profiles";

export type RunMockOptions = {
  /** This node fails with `failMessage`. */
  failNode?: string;
  failMessage?: string;
  /** This node is throttled once (a `retrying` notice) before it answers. */
  retryNode?: string;
  /** Milliseconds between streamed tokens (default 30); large values make a long run to cancel. */
  tokenDelayMs?: number;
};

const connectionNames = () => savedConnections().map((c) => c.name);

const REF = /\$\{\s*([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)\s*\}/g;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// The flow ports (Inputs, Outputs) only show the flow's own lists; the catalog says which kinds run.
const runsOnItsOwn = (node: Node) => isRunnable(node.type);

function strings(value: JsonValue | undefined, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => strings(v, out));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => strings(v, out));
  return out;
}

/** Node id → the node ids its properties reference. */
function dependencies(doc: FlowDocument): Map<string, Set<string>> {
  const ids = new Set(doc.nodes.map((n) => n.id));
  return new Map(
    doc.nodes.map((node) => {
      const deps = new Set<string>();
      for (const text of strings(node.properties ?? {}))
        for (const [, head] of text.matchAll(REF)) if (head && head !== "inputs" && head !== "vars" && ids.has(head)) deps.add(head);
      return [node.id, deps];
    }),
  );
}

export function validateFlow(doc: FlowDocument, connections: string[]): Diagnostic[] {
  const found: Diagnostic[] = [];
  const ids = new Set(doc.nodes.map((n) => n.id));
  const error = (node: string, property: string | null, message: string) =>
    found.push({ severity: "error", node, property, message });
  for (const node of doc.nodes) {
    for (const [key, value] of Object.entries(node.properties ?? {})) {
      for (const text of strings(value))
        for (const [, head, port] of text.matchAll(REF))
          if (head === "inputs" ? !(port && doc.inputs?.[port]) : head !== "vars" && head && !ids.has(head))
            error(node.id, key, `\`\${${head}.${port}}\` refers to ${head === "inputs" ? "an input" : "a node"} this flow does not have`);
    }
    if (node.type === "chat_completion" || node.type === "embeddings") {
      const connection = node.properties?.connection;
      if (typeof connection === "string" && !connection.includes("${") && !connections.includes(connection.trim()))
        error(node.id, "connection", `unknown connection \`${connection.trim()}\`; create it in Connections or with \`weft connection create\``);
      if (!node.properties?.deployment) error(node.id, "deployment", "a Chat completion needs a deployment name");
    }
  }
  return found;
}

type Results = Map<string, JsonValue>;

function evaluate(value: JsonValue, inputs: Record<string, JsonValue>, results: Results): JsonValue {
  if (typeof value === "string") {
    const lookup = (head: string, port: string): JsonValue =>
      head === "inputs" ? (inputs[port] ?? null) : port === "output" ? (results.get(head) ?? null) : null;
    const whole = /^\$\{\s*([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)\s*\}$/.exec(value);
    if (whole?.[1] && whole[2]) return lookup(whole[1], whole[2]);
    return value.replace(REF, (_m, head: string, port: string) => {
      const v = lookup(head, port);
      return typeof v === "string" ? v : JSON.stringify(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => evaluate(v, inputs, results));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluate(v, inputs, results)]));
  return value;
}

function render(template: string, variables: JsonValue | undefined): string {
  const vars = variables && typeof variables === "object" && !Array.isArray(variables) ? variables : {};
  return template.replace(/\{\{\s*([\w-]+)\s*\}\}/g, (_m, name: string) => {
    const v = vars[name];
    return typeof v === "string" ? v : JSON.stringify(v ?? null);
  });
}

declare global {
  interface Window {
    /** The cassette mode and flow path of every run_flow the app sent, for tests to read. */
    __WEFT_RUN_CASSETTES__?: { path: string | null; cassette: string }[];
    /** Data files written by dataset_add_run, by path. */
    __WEFT_DATASETS__?: Record<string, string>;
  }
}

let active: { id: string; cancelled: boolean } | null = null;
/** Flow paths with a recorded cassette. */
const cassettes = new Set<string>();

/** How the run's calls went through the cassette beside the flow, as weft-core counts them. */
function cassetteOf(mode: Args<"run_flow">["cassette"], path: string | null, calls: number): CassetteUse | null {
  if (mode === "off") return null;
  if (!path) fail("invalidInput", "an unsaved flow has no place for a cassette; save the flow first, or run it live");
  const file = path.replace(/\.weft\.yaml$/, ".cassette.jsonl");
  if (mode === "replay") {
    if (!cassettes.has(path)) fail("notFound", `there is no cassette at ${file} yet; run once with Record (or Record missing) to make it`);
    return { mode, replayed: calls, recorded: 0, live: 0 };
  }
  const had = cassettes.has(path);
  cassettes.add(path);
  return mode === "fill" && had ? { mode, replayed: calls, recorded: 0, live: 0 } : { mode, replayed: 0, recorded: calls, live: 0 };
}
const history: RunView[] = [];
/** Per flow path: the last output of every node that succeeded, for `from`/`only` runs. */
const reusable = new Map<string, Results>();

function typeMatches(type: string, value: JsonValue): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "number":
      return typeof value === "number";
    case "bool":
      return typeof value === "boolean";
    case "object":
      return !!value && typeof value === "object" && !Array.isArray(value);
    case "list":
      return Array.isArray(value);
    default:
      return true;
  }
}

async function runFlow(args: Args<"run_flow">): Promise<RunSummary> {
  const { document: doc, path, plan, events: channel } = args;
  const given = args.inputs;
  const options = mockOptions().run ?? {};

  const problems = validateFlow(doc, connectionNames());
  if (problems.length)
    fail("invalidInput", `the flow has ${problems.length} problem(s); fix them first:\n${problems.map((p) => `${p.node}: ${p.message}`).join("\n")}`);

  const inputs: Record<string, JsonValue> = {};
  const secrets: string[] = [];
  for (const name of Object.keys(given)) if (!doc.inputs?.[name]) fail("invalidInput", `the flow has no input \`${name}\``);
  for (const [name, spec] of Object.entries(doc.inputs ?? {})) {
    const value = given[name] ?? spec.default;
    if (value === undefined) fail("invalidInput", `the flow needs the input \`${name}\`; give it a value (the CLI's --input ${name}=…)`);
    if (!typeMatches(spec.type, value)) fail("invalidInput", `the input \`${name}\` should be ${spec.type}, not \`${JSON.stringify(value)}\``);
    if (spec.secret) secrets.push(typeof value === "string" ? value : JSON.stringify(value));
    inputs[name] = value;
  }
  const redact = (text: string) => secrets.reduce((t, s) => (s ? t.split(s).join("******") : t), text);
  const redactValue = (value: JsonValue): JsonValue => JSON.parse(redact(JSON.stringify(value))) as JsonValue;

  const deps = dependencies(doc);
  const key = path ?? "";
  const previous = reusable.get(key) ?? new Map<string, JsonValue>();
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  let toRun: Set<string>;
  if (plan.mode === "all") toRun = new Set(doc.nodes.filter(runsOnItsOwn).map((n) => n.id));
  else {
    const target = byId.get(plan.node) ?? fail("notFound", `the flow has no node \`${plan.node}\``);
    if (!runsOnItsOwn(target)) fail("invalidInput", `\`${plan.node}\` only shows the flow's inputs or outputs; it does not run on its own`);
    toRun = new Set([plan.node]);
    if (plan.mode === "from")
      for (let grew = true; grew; ) {
        grew = false;
        for (const [id, d] of deps) {
          if (toRun.has(id) || ![...d].some((x) => toRun.has(x)) || !runsOnItsOwn(byId.get(id) as Node)) continue;
          toRun.add(id);
          grew = true;
        }
      }
    const missing = [...(deps.get(plan.node) ?? [])].filter((d) => !toRun.has(d) && !previous.has(d));
    if (missing.length)
      fail(
        "invalidInput",
        `\`${plan.node}\` reads ${missing.map((m) => `\`${m}\``).join(", ")} with no result to reuse; run the flow once, or give ${missing.length === 1 ? "it" : "them"} a value`,
      );
  }

  window.__WEFT_RUN_CASSETTES__ = [...(window.__WEFT_RUN_CASSETTES__ ?? []), { path, cassette: args.cassette }];
  const cassette = cassetteOf(args.cassette, path, [...toRun].filter((id) => byId.get(id)?.type === "chat_completion").length);
  const runId = args.runId;
  // Taken once at the start, as StoreConnections does: a switch during the run does not change it.
  const profile = activeProfile();
  const run = { id: runId, cancelled: false };
  active = run;
  const started = Date.now();
  const emit = (event: RunEvent) => channel.onmessage(event);
  const delay = options.tokenDelayMs ?? 30;
  const results: Results = new Map();
  const records: Record<string, NodeRecord> = {};
  emit({ event: "run_started", run_id: runId });

  // Upstream results of a partial run come from the last run of this flow file.
  for (const node of doc.nodes) {
    if (toRun.has(node.id) || !previous.has(node.id) || !runsOnItsOwn(node)) continue;
    const needed = [...toRun].some((id) => deps.get(id)?.has(node.id));
    if (!needed && plan.mode !== "all") continue;
    results.set(node.id, previous.get(node.id) as JsonValue);
    emit({ event: "node_reused", node: node.id });
    records[node.id] = { state: "reused", inputs: null, output: redactValue(previous.get(node.id) as JsonValue), error: null, latency_ms: 0, usage: null };
  }

  const order = doc.nodes.filter((n) => toRun.has(n.id));
  const pending = new Set(order.map((n) => n.id));
  while (pending.size && !run.cancelled) {
    const node = order.find((n) => pending.has(n.id) && [...(deps.get(n.id) ?? [])].every((d) => !pending.has(d)));
    if (!node) break;
    pending.delete(node.id);
    const blocked = [...(deps.get(node.id) ?? [])].find((d) => records[d] && records[d].state !== "succeeded" && records[d].state !== "reused");
    if (blocked) {
      const reason = `\`${blocked}\` ${records[blocked]?.state === "skipped" ? "was skipped" : "failed"}`;
      emit({ event: "node_skipped", node: node.id, reason });
      records[node.id] = { state: "skipped", inputs: null, output: null, error: reason, latency_ms: 0, usage: null };
      continue;
    }
    const props = evaluate((node.properties ?? {}) as JsonValue, inputs, results) as Record<string, JsonValue>;
    const shown = redactValue(props);
    const t0 = performance.now();
    emit({ event: "node_started", node: node.id });
    await sleep(delay);
    if (run.cancelled) {
      records[node.id] = { state: "cancelled", inputs: shown, output: null, error: "cancelled", latency_ms: performance.now() - t0, usage: null };
      break;
    }
    if (options.retryNode === node.id) {
      emit({ event: "retrying", node: node.id, message: "the service is throttling (HTTP 429); retrying in 1 s (attempt 2 of 4)" });
      await sleep(Math.max(300, delay * 4));
    }
    if (options.failNode === node.id) {
      const error = options.failMessage ?? "the service refused the request (HTTP 401): the API key is wrong; replace it under Connections";
      emit({ event: "node_failed", node: node.id, error });
      records[node.id] = { state: "failed", inputs: shown, output: null, error, latency_ms: performance.now() - t0, usage: null };
      continue;
    }
    let output: JsonValue = null;
    let usage: NodeRecord["usage"] = null;
    if (node.type === "chat_completion") {
      const prompt = render(String(props.user_prompt ?? ""), props.variables);
      const answer = `You asked: ${prompt} A flow designer lets you wire prompts, models and logic into a pipeline you can run, inspect and repeat.`;
      const tokens = answer.match(/\S+\s*/g) ?? [];
      let text = "";
      for (const token of tokens) {
        if (run.cancelled) break;
        text += token;
        emit({ event: "token", node: node.id, text: redact(token) });
        await sleep(delay);
      }
      if (run.cancelled) {
        records[node.id] = { state: "cancelled", inputs: shown, output: null, error: "cancelled", latency_ms: performance.now() - t0, usage: null };
        break;
      }
      output = text;
      const promptTokens = prompt.split(/\s+/).length + 20;
      usage = { prompt_tokens: promptTokens, completion_tokens: tokens.length, total_tokens: promptTokens + tokens.length };
    } else if (node.type === "prompt_template") output = render(String(props.template ?? ""), props.variables);
    else output = props.value ?? props.initial ?? null;
    results.set(node.id, output);
    const latency = performance.now() - t0;
    emit({ event: "node_finished", node: node.id, output: redactValue(output), latency_ms: latency, usage });
    records[node.id] = { state: "succeeded", inputs: shown, output: redactValue(output), error: null, latency_ms: latency, usage };
  }

  const status: RunStatus = run.cancelled ? "cancelled" : Object.values(records).some((r) => r.state === "failed") ? "failed" : "succeeded";
  const outputs: Record<string, JsonValue> = {};
  if (plan.mode !== "only")
    for (const [name, out] of Object.entries(doc.outputs ?? {})) outputs[name] = redactValue(evaluate(out.value, inputs, results));
  const latency = Date.now() - started;
  emit({ event: "run_finished", status, outputs, latency_ms: latency });
  active = null;

  const kept = reusable.get(key) ?? new Map<string, JsonValue>();
  for (const [id, record] of Object.entries(records)) if (record.state === "succeeded") kept.set(id, results.get(id) as JsonValue);
  reusable.set(key, kept);
  const finished = Date.now();
  history.unshift({
    id: runId,
    flow_path: path ?? "(unsaved flow)",
    flow_hash: "mock",
    started_at_ms: finished - latency,
    finished_at_ms: finished,
    status,
    inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, doc.inputs?.[k]?.secret ? "******" : v])),
    outputs,
    nodes: records as unknown as JsonValue,
    profile,
    cassette,
  });
  return { run_id: runId, status, outputs, nodes: records, latency_ms: latency, profile, cassette };
}

/** Rust's `secret_inputs`, for the direct case only: marked secret, or named by a key property. */
function secretInputs(doc: FlowDocument): string[] {
  const names = new Set(Object.entries(doc.inputs ?? {}).filter(([, spec]) => spec.secret).map(([name]) => name));
  for (const node of doc.nodes) {
    const key = node.type === "create_azure_ai_connection" ? node.properties?.api_key : undefined;
    const name = typeof key === "string" ? /^\$\{inputs\.([\w-]+)\}$/.exec(key)?.[1] : undefined;
    if (name) names.add(name);
  }
  return [...names];
}

export const runHandlers = {
  validate_flow: ({ document }) => validateFlow(document, connectionNames()),
  secret_inputs: ({ document }) => secretInputs(document),
  run_flow: runFlow,
  cancel_run: ({ runId }) => {
    const was = !!active && !active.cancelled && active.id === runId;
    if (was && active) active.cancelled = true;
    return was || cancelEval(runId);
  },
  list_runs: ({ limit }) => history.slice(0, limit),
  get_run: ({ id }) => findRun(id),
  dataset_add_run: ({ runId, path, expectedFrom }) => {
    const run = findRun(runId);
    if (!/\.(jsonl|ndjson|csv)$/i.test(path)) fail("invalidInput", `${path} is neither JSON Lines nor CSV; give a file ending in .jsonl, .ndjson or .csv`);
    // Stored inputs are redacted: a secret one reads `******` and is left out of the row.
    const row: Record<string, JsonValue> = Object.fromEntries(Object.entries(run.inputs as Record<string, JsonValue>).filter(([, v]) => v !== "******"));
    if (expectedFrom !== null) {
      const outputs = run.outputs as Record<string, JsonValue>;
      if (!(expectedFrom in outputs)) fail("invalidInput", `the run has no output \`${expectedFrom}\` (its outputs: ${Object.keys(outputs).join(", ")})`);
      row.expected = outputs[expectedFrom] ?? null;
    }
    const all = (window.__WEFT_DATASETS__ ??= {});
    const before = all[path] ?? "";
    if (/\.csv$/i.test(path)) {
      const header = before ? (before.split("\n")[0] ?? "").split(",") : Object.keys(row);
      const cell = (v: JsonValue | undefined) => (typeof v === "string" ? v : v === undefined ? "" : JSON.stringify(v));
      all[path] = `${before || `${header.join(",")}\n`}${header.map((h) => cell(row[h])).join(",")}\n`;
    } else all[path] = `${before}${JSON.stringify(row)}\n`;
    return null;
  },
} satisfies Partial<Handlers>;

function findRun(id: string): RunView {
  return history.find((r) => r.id === id || r.id.startsWith(id)) ?? fail("notFound", `no run \`${id}\`; \`weft runs list\` shows the ids`);
}
