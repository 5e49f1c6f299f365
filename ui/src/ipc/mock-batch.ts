// The batch commands for browser tests, behaving like the Rust contract (crates/weft-core/src/batch):
// data files are described by the test (columns and a row count; cells are generated, so a
// 100,000-row batch costs one status byte per row), the mapping is checked before anything runs,
// rows finish in waves with real delays and stream Started / Progress / Throttled / BadRow
// events, Cancel is honoured between waves, Resume reruns only the rows that did not succeed,
// and the rows are served a page at a time as `batch_rows` does.
import type { BatchCounts } from "./generated/BatchCounts";
import type { BatchEvent } from "./generated/BatchEvent";
import type { BatchRowStatus } from "./generated/BatchRowStatus";
import type { BatchRowView } from "./generated/BatchRowView";
import type { BatchStatus } from "./generated/BatchStatus";
import type { BatchSummary } from "./generated/BatchSummary";
import type { BatchView } from "./generated/BatchView";
import type { Concurrency } from "./generated/Concurrency";
import type { DataPreview } from "./generated/DataPreview";
import type { FlowDocument } from "./generated/FlowDocument";
import type { NodeRecord } from "./generated/NodeRecord";
import type { RowFilter } from "./generated/RowFilter";
import type { JsonValue } from "./generated/serde_json/JsonValue";
import { isRunnable } from "../features/editor/catalog";
import type { Args } from "./client";
import { savedConnections } from "./mock-connections";
import { flowHandlers } from "./mock-flows";
import { type Handlers, fail, mockOptions } from "./mock-options";
import { activeProfile } from "./mock-profiles";
import { validateFlow } from "./mock-run";

export type BatchMockFile = {
  columns: string[];
  rows: number;
  /** Rows (0-based) that cannot be read: a malformed JSONL line, a CSV row with too few cells. */
  badRows?: number[];
};

export type BatchMockOptions = {
  /** Data files by path; the format is the extension's. Cells read `<column> <row number>`. */
  files?: Record<string, BatchMockFile>;
  /** Rows that finish per wave (default 4) and milliseconds between waves (default 40). */
  rowsPerWave?: number;
  waveMs?: number;
  /** Every nth row's chat node fails (the 3rd, 6th… with 3); 0 or absent: none do. Resume succeeds them. */
  failEvery?: number;
  /** After this many waves the endpoint throttles once (a Throttled event). */
  throttleAfterWaves?: number;
};

declare global {
  interface Window {
    /** Every export written, by path, for tests to read. */
    __WEFT_EXPORTS__?: Record<string, string>;
    /** Every page `batch_rows` served, once a test sets it to an array. */
    __WEFT_BATCH_PAGES__?: { filter: RowFilter; offset: number; limit: number }[];
  }
}

const NONE = 0;
const SUCCEEDED = 1;
const FAILED = 2;
const CANCELLED = 3;
const STATUS_NAMES: Record<number, BatchRowStatus> = { [SUCCEEDED]: "succeeded", [FAILED]: "failed", [CANCELLED]: "cancelled" };
const ENDPOINT = "res.services.ai.azure.com/gpt-4o-mini";

type Batch = {
  view: BatchView;
  flow: FlowDocument;
  file: BatchMockFile;
  format: "csv" | "jsonl";
  /** One byte per row: NONE until it finishes. */
  status: Uint8Array;
  /** It has been resumed: rows that failed in a run succeed now (bad rows still fail). */
  resumed: boolean;
  cancelled: boolean;
};

const batches: Batch[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const options = () => mockOptions().batch ?? {};

function formatOf(path: string): "csv" | "jsonl" {
  if (/\.csv$/i.test(path)) return "csv";
  if (/\.(jsonl|ndjson)$/i.test(path)) return "jsonl";
  return fail("invalidInput", `${path} is neither JSON Lines nor CSV; give a file ending in .jsonl, .ndjson or .csv`);
}

/** The data file the test described at `path`, as batch_preview and batch_start read it (evals too). */
export function dataFile(path: string): BatchMockFile {
  formatOf(path);
  return options().files?.[path] ?? fail("notFound", `could not open ${path}: no such file; check the path`);
}

function lineOf(format: "csv" | "jsonl", row: number): number {
  return format === "csv" ? row + 2 : row + 1;
}

function cells(file: BatchMockFile, row: number): Record<string, string> {
  return Object.fromEntries(file.columns.map((c) => [c, `${c} ${row + 1}`]));
}

/** weft-batch's BadRow messages. */
function badRowMessage(format: "csv" | "jsonl", row: number, columns: number): string {
  const line = lineOf(format, row);
  return format === "csv"
    ? `line ${line}: ${columns - 1} fields where the header has ${columns} columns; quote fields that contain commas, or fix the row`
    : `line ${line}: not valid JSON (expected value at line 1 column 1); fix or remove the line`;
}

/** Rust's ColumnMapping::suggest: each input to the column of its name, else one that differs only in case. */
function suggest(flow: FlowDocument, columns: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const input of Object.keys(flow.inputs ?? {})) {
    const column = columns.find((c) => c === input) ?? columns.find((c) => c.toLowerCase() === input.toLowerCase());
    if (column) out[input] = `\${data.${column}}`;
  }
  return out;
}

const COLUMN = /^\$\{data\.(.+)\}$/;

/** Rust's ColumnMapping::check with its messages (crates/weft-batch/src/mapping.rs), before any row runs. */
function checkMapping(flow: FlowDocument, mapping: Record<string, string>, file: BatchMockFile, format: "csv" | "jsonl") {
  const inputs = flow.inputs ?? {};
  const listed = (names: string[]) => (names.length ? names.join(", ") : "none");
  for (const [name, text] of Object.entries(mapping)) {
    if (!inputs[name])
      fail("invalidInput", `the flow has no input \`${name}\` (its inputs: ${listed(Object.keys(inputs))}); fix the name in the mapping or remove it`);
    const column = COLUMN.exec(text.trim())?.[1]?.trim();
    if (column === undefined && text.includes("${"))
      fail("invalidInput", `input \`${name}\`: \`${text}\` is not a reference a batch knows; write \`\${data.COLUMN}\` to read a column, or text without \`\${\` for a static value`);
    if (column !== undefined && format === "csv" && !file.columns.includes(column))
      fail(
        "invalidInput",
        `the input \`${name}\` is mapped to the column \`${column}\`, which the CSV header does not have (its columns: ${listed(file.columns)}); fix the column in the mapping`,
      );
  }
  for (const [name, input] of Object.entries(inputs))
    if (mapping[name] === undefined && input.default === undefined && !file.columns.includes(name))
      fail(
        "invalidInput",
        `nothing fills the flow input \`${name}\`: it has no mapping and no default, and the data has no \`${name}\` column (its columns: ${listed(file.columns)}); map it to a column (\`\${data.COLUMN}\`) or a static value, or give the input a default`,
      );
}

/** weft-engine's stage check, for the model nodes only: one model call per row, or none to send. */
function checkStage(flow: FlowDocument) {
  const models = flow.nodes.filter((n) => n.type === "chat_completion" || n.type === "embeddings");
  if (!models.length)
    fail("invalidInput", "the flow calls no model, so there is nothing for the Azure OpenAI Batch API to run; run it with the local engine");
  const [first, second] = models;
  if (first && second)
    fail(
      "invalidInput",
      `\`${second.id}\` is a second model call beside \`${first.id}\`: the Batch API makes one model call per row, so run this flow with the local engine, or split it into one flow per model call`,
    );
}

function rowInputs(batch: Batch, row: number): Record<string, JsonValue> {
  const data = cells(batch.file, row);
  const out: Record<string, JsonValue> = {};
  for (const [name, input] of Object.entries(batch.flow.inputs ?? {})) {
    const text = batch.view.mapping[name];
    const column = text === undefined ? undefined : COLUMN.exec(text.trim())?.[1]?.trim();
    if (column !== undefined) out[name] = data[column] ?? null;
    else if (text !== undefined) out[name] = text;
    else if (input.default !== undefined) out[name] = input.default;
    else out[name] = data[name] ?? null;
  }
  return out;
}

function isBad(batch: Batch, row: number): boolean {
  return batch.file.badRows?.includes(row) ?? false;
}

function failsInRun(batch: Batch, row: number): boolean {
  const every = options().failEvery ?? 0;
  return !batch.resumed && every > 0 && row % every === every - 1;
}

function rowView(batch: Batch, row: number): BatchRowView {
  const code = batch.status[row] ?? NONE;
  const status = STATUS_NAMES[code] ?? fail("notFound", `batch ${batch.view.id} has no row ${row} yet`);
  const line = lineOf(batch.format, row);
  if (isBad(batch, row))
    return {
      row,
      line,
      status,
      inputs: {},
      outputs: {},
      nodes: {},
      error: badRowMessage(batch.format, row, batch.file.columns.length),
      latency_ms: 0,
      prompt_tokens: 0,
      completion_tokens: 0,
    };
  const inputs = rowInputs(batch, row);
  const nodes: Record<string, NodeRecord> = {};
  const question = Object.values(inputs).map(String).join(" ");
  const answer = `You asked: ${question}`;
  let error: string | null = null;
  for (const node of batch.flow.nodes.filter((n) => isRunnable(n.type))) {
    if (status === "cancelled") nodes[node.id] = { state: "cancelled", inputs: null, output: null, error: "cancelled", latency_ms: 50, usage: null };
    else if (status === "failed") {
      error = "the service failed (HTTP 500): try again later, or resume the batch to rerun its failed rows";
      nodes[node.id] = { state: "failed", inputs: { user_prompt: question }, output: null, error, latency_ms: 180, usage: null };
    } else
      nodes[node.id] = {
        state: "succeeded",
        inputs: { user_prompt: question },
        output: answer,
        error: null,
        latency_ms: 200,
        usage: { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 },
      };
  }
  const ok = status === "succeeded";
  return {
    row,
    line,
    status,
    inputs,
    outputs: ok ? Object.fromEntries(Object.keys(batch.flow.outputs ?? {}).map((k) => [k, answer])) : {},
    nodes,
    error: status === "cancelled" ? "cancelled" : error,
    latency_ms: ok ? 200 : 180,
    prompt_tokens: ok ? 12 : 0,
    completion_tokens: ok ? 8 : 0,
  };
}

function counts(batch: Batch): BatchCounts {
  const out = { succeeded: 0, failed: 0, cancelled: 0 };
  for (const code of batch.status) {
    if (code === SUCCEEDED) out.succeeded++;
    else if (code === FAILED) out.failed++;
    else if (code === CANCELLED) out.cancelled++;
  }
  return out;
}

function view(batch: Batch): BatchView {
  return { ...batch.view, counts: counts(batch), mapping: { ...batch.view.mapping } };
}

function find(id: string): Batch {
  return (
    batches.find((b) => b.view.id === id) ??
    batches.find((b) => id.length >= 4 && b.view.id.startsWith(id)) ??
    fail("notFound", `no batch \`${id}\`; \`weft batch list\` shows the ids`)
  );
}

/** Runs the rows `todo` picks in waves, streaming events, until done or cancelled. */
async function runRows(batch: Batch, concurrency: Concurrency, emit: (event: BatchEvent) => void, skipped: number): Promise<BatchSummary> {
  const { rowsPerWave = 4, waveMs = 40, throttleAfterWaves } = options();
  const started = Date.now();
  const todo: number[] = [];
  for (let row = 0; row < batch.file.rows; row++) if (batch.status[row] !== SUCCEEDED) todo.push(row);
  batch.cancelled = false;
  batch.view.status = "running";
  emit({ type: "started", batch_id: batch.view.id, resumed: batch.resumed, skipped });
  // The Azure engine's requests go through Azure's states, one poll each, before the rows run here.
  if (batch.view.engine === "azure-batch")
    for (const [status, share] of [["validating", 0], ["in_progress", 0.5], ["finalizing", 1], ["completed", 1]] as const) {
      // Azure's polls are minutes apart; here a few waves, long enough for a test to see each state.
      await sleep(waveMs * 3);
      if (batch.cancelled) break;
      const completed = Math.round(todo.length * share);
      emit({ type: "remote", status, completed, failed: 0, total: todo.length });
    }
  let throttles = 0;
  let wave = 0;
  let done = skipped;
  const limit = (w: number) => (concurrency === "auto" ? Math.min(8 + 4 * w, 64) : concurrency);
  const progress = (inFlight: number) => {
    const c = counts(batch);
    const elapsed = Math.max(1, Date.now() - started);
    const rate = ((done - skipped) * 1000) / elapsed;
    emit({
      type: "progress",
      done,
      ...c,
      total: batch.file.rows,
      rows_per_s: rate,
      concurrency: limit(wave),
      in_flight: inFlight,
      throttles,
      elapsed_ms: elapsed,
      eta_ms: rate > 0 ? Math.round(((batch.file.rows - done) * 1000) / rate) : null,
    });
  };
  for (let i = 0; i < todo.length && !batch.cancelled; i += rowsPerWave) {
    await sleep(waveMs);
    if (batch.cancelled) {
      // The rows of this wave were in flight: they are recorded as cancelled, the rest never ran.
      for (const row of todo.slice(i, i + rowsPerWave)) batch.status[row] = CANCELLED;
      break;
    }
    for (const row of todo.slice(i, i + rowsPerWave)) {
      if (isBad(batch, row)) {
        batch.status[row] = FAILED;
        emit({ type: "bad_row", row, line: lineOf(batch.format, row), message: badRowMessage(batch.format, row, batch.file.columns.length) });
      } else batch.status[row] = failsInRun(batch, row) ? FAILED : SUCCEEDED;
      done++;
    }
    wave++;
    if (throttleAfterWaves !== undefined && wave === throttleAfterWaves) {
      throttles++;
      emit({ type: "throttled", endpoint: ENDPOINT, wait_ms: 1000 });
    }
    progress(Math.min(limit(wave), todo.length - i - rowsPerWave > 0 ? limit(wave) : 0));
  }
  const c = counts(batch);
  const status: BatchStatus = batch.cancelled ? "cancelled" : c.failed > 0 ? "failed" : "succeeded";
  const finished = Date.now();
  batch.view = { ...batch.view, status, finished_at_ms: finished, total: batch.file.rows };
  const elapsed = finished - started;
  return {
    batch_id: batch.view.id,
    status,
    total: batch.file.rows,
    ...c,
    elapsed_ms: elapsed,
    rows_per_s: ((done - skipped) * 1000) / Math.max(1, elapsed),
    throttles,
    prompt_tokens: c.succeeded * 12,
    completion_tokens: c.succeeded * 8,
    message: null,
  };
}

function rowsMatching(batch: Batch, filter: RowFilter, offset: number, limit: number): BatchRowView[] {
  const want = filter === "succeeded" ? SUCCEEDED : filter === "failed" ? FAILED : filter === "cancelled" ? CANCELLED : null;
  const out: BatchRowView[] = [];
  let seen = 0;
  for (let row = 0; row < batch.status.length && out.length < limit; row++) {
    const code = batch.status[row];
    if (code === NONE || (want !== null && code !== want)) continue;
    if (seen++ >= offset) out.push(rowView(batch, row));
  }
  return out;
}

function csvCell(value: unknown): string {
  const text = typeof value === "string" ? value : value === null || value === undefined ? "" : JSON.stringify(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function exportText(batch: Batch, format: "csv" | "jsonl"): string {
  const rows = rowsMatching(batch, "all", 0, batch.status.length);
  if (format === "jsonl")
    return rows
      .map((r) => {
        const { row, line, status, inputs, outputs, error, latency_ms, prompt_tokens, completion_tokens } = r;
        return `${JSON.stringify({ row, line, status, inputs, outputs, error, latency_ms, prompt_tokens, completion_tokens })}\n`;
      })
      .join("");
  const inputs = Object.keys(batch.flow.inputs ?? {});
  const outputs = Object.keys(batch.flow.outputs ?? {});
  const head = ["row", "line", "status", "error", "latency_ms", "prompt_tokens", "completion_tokens", ...inputs.map((i) => `inputs.${i}`), ...outputs.map((o) => `outputs.${o}`)];
  const field = (value: JsonValue, key: string) => (value && typeof value === "object" && !Array.isArray(value) ? value[key] : undefined);
  const lines = rows.map((r) =>
    [r.row, r.line, r.status, r.error, r.latency_ms, r.prompt_tokens, r.completion_tokens, ...inputs.map((i) => field(r.inputs, i)), ...outputs.map((o) => field(r.outputs, o))]
      .map(csvCell)
      .join(","),
  );
  return [head.join(","), ...lines].map((l) => `${l}\n`).join("");
}

async function start(args: Args<"batch_start">): Promise<BatchSummary> {
  const { batchId, name, flowPath, dataPath, mapping, concurrency, engine, events } = args;
  const opened = flowHandlers.open_flow({ path: flowPath });
  const flow = opened.document;
  const problems = validateFlow(flow, savedConnections().map((c) => c.name));
  if (problems.length)
    fail("invalidInput", `the flow has ${problems.length} problem(s); fix them first:\n${problems.map((p) => `${p.node}: ${p.message}`).join("\n")}`);
  const file = dataFile(dataPath);
  const format = formatOf(dataPath);
  checkMapping(flow, mapping, file, format);
  if (engine === "azure-batch") checkStage(flow);
  if (batches.some((b) => b.view.id === batchId)) fail("busy", `a batch with id ${batchId} is already running`);
  const batch: Batch = {
    view: {
      id: batchId,
      name,
      flow_path: flowPath,
      data_path: dataPath,
      status: "running",
      counts: { succeeded: 0, failed: 0, cancelled: 0 },
      total: null,
      created_at_ms: Date.now(),
      finished_at_ms: null,
      mapping: { ...mapping },
      concurrency: String(concurrency),
      engine,
      profile: activeProfile(),
      message: null,
    },
    flow,
    file,
    format,
    status: new Uint8Array(file.rows),
    resumed: false,
    cancelled: false,
  };
  batches.unshift(batch);
  return runRows(batch, concurrency, (e) => events.onmessage(e), 0);
}

async function resume(args: Args<"batch_resume">): Promise<BatchSummary> {
  const batch = find(args.batchId);
  if (batch.view.status === "running") fail("busy", `batch ${batch.view.id} is running; wait for it or cancel it first`);
  if (batch.view.status === "succeeded") fail("invalidInput", `every row of batch ${batch.view.id} succeeded; there is nothing to resume`);
  const skipped = counts(batch).succeeded;
  batch.resumed = true;
  const concurrency = args.concurrency ?? (batch.view.concurrency === "auto" ? "auto" : Number(batch.view.concurrency));
  return runRows(batch, concurrency, (e) => args.events.onmessage(e), skipped);
}

export const batchHandlers = {
  batch_preview: ({ document, path }): DataPreview => {
    const file = dataFile(path);
    const format = formatOf(path);
    const rows = Array.from({ length: Math.min(10, file.rows) }, (_, row) =>
      file.badRows?.includes(row)
        ? { row, line: lineOf(format, row), fields: null, error: badRowMessage(format, row, file.columns.length) }
        : { row, line: lineOf(format, row), fields: cells(file, row), error: null },
    );
    return { format, columns: [...file.columns], rows, mapping: suggest(document, file.columns) };
  },
  batch_start: start,
  batch_resume: resume,
  batch_cancel: ({ batchId }) => {
    const batch = batches.find((b) => b.view.id === batchId);
    const was = !!batch && batch.view.status === "running" && !batch.cancelled;
    if (batch && was) batch.cancelled = true;
    return was;
  },
  batch_list: ({ limit }) => batches.slice(0, limit).map(view),
  batch_get: ({ id }) => view(find(id)),
  batch_rows: ({ id, filter, offset, limit }) => {
    window.__WEFT_BATCH_PAGES__?.push({ filter, offset, limit });
    return rowsMatching(find(id), filter, offset, limit);
  },
  batch_row: ({ id, row }) => rowView(find(id), row),
  batch_export: ({ id, format, path }) => {
    const batch = find(id);
    window.__WEFT_EXPORTS__ = { ...(window.__WEFT_EXPORTS__ ?? {}), [path]: exportText(batch, format) };
    return null;
  },
} satisfies Partial<Handlers>;
