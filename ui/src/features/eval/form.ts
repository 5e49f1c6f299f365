// The Evaluate panel's form and the eval file it edits (docs/eval-format.md). The form holds text
// as typed, so a half-typed number is not lost; `fileOf` turns it into the file's shape or says,
// per field, what is wrong. A file opened and saved keeps what the form does not edit: the form
// starts from the file and writes its own fields over it.
import type { AssertionKind } from "../../ipc/generated/AssertionKind";
import type { AssertionSpec } from "../../ipc/generated/AssertionSpec";
import type { EvalFile } from "../../ipc/generated/EvalFile";
import type { Price } from "../../ipc/generated/Price";
import type { Thresholds } from "../../ipc/generated/Thresholds";
import type { JsonValue } from "../../ipc/generated/serde_json/JsonValue";
import { type MappingEntries, entriesFrom, mappingOf } from "../../shared/dataset/mapping";

export const ASSERTION_TYPES = [
  "equals",
  "contains",
  "icontains",
  "starts_with",
  "regex",
  "is_json",
  "json_schema",
  "length",
  "latency_ms",
  "tokens",
  "cost",
  "llm_judge",
  "similar",
  "flow",
] as const satisfies readonly AssertionKind[];
export type AssertionType = AssertionKind;

/** The fields an assertion of a type asks for besides `output`, `weight` and `metric`. */
export type AssertionField = "value" | "rubric" | "connection" | "deployment" | "threshold" | "min" | "max" | "flow" | "inputs";

export const ASSERTION_LABELS: Record<AssertionType, string> = {
  equals: "Equals",
  contains: "Contains",
  icontains: "Contains (any case)",
  starts_with: "Starts with",
  regex: "Matches a regex",
  is_json: "Is JSON",
  json_schema: "Matches a JSON schema",
  length: "Length between",
  latency_ms: "Latency at most (ms)",
  tokens: "Tokens at most",
  cost: "Cost at most",
  llm_judge: "LLM judge (rubric)",
  similar: "Similar to (embeddings)",
  flow: "Evaluator flow",
};

export const FIELDS: Record<AssertionType, readonly AssertionField[]> = {
  equals: ["value"],
  contains: ["value"],
  icontains: ["value"],
  starts_with: ["value"],
  regex: ["value"],
  is_json: [],
  json_schema: ["value"],
  length: ["min", "max"],
  latency_ms: ["max"],
  tokens: ["max"],
  cost: ["max"],
  llm_judge: ["rubric", "connection", "deployment"],
  similar: ["value", "threshold", "connection", "deployment"],
  flow: ["flow", "inputs", "threshold"],
};

/** Row-level checks: they read the run's numbers, not one of its outputs. */
const NO_OUTPUT: ReadonlySet<AssertionType> = new Set(["latency_ms", "tokens", "cost", "flow"]);
export const takesOutput = (type: AssertionType) => !NO_OUTPUT.has(type);

export type AssertionDraft = { type: AssertionType; output: string; weight: string; metric: string } & Record<AssertionField, string>;

export type SetDraft = { node: string; property: string; value: string };
export type VariantDraft = { name: string; sets: SetDraft[] };
/** A row of `prices:`: a deployment or model and its prices per million tokens (the Rust `Price`). */
export type PriceDraft = { name: string; input: string; output: string };
/** A row of `thresholds.metrics`: the least mean score of a metric, 0 to 1. */
export type MetricFloorDraft = { metric: string; floor: string };

export type EvalForm = {
  name: string;
  description: string;
  /** Relative to the eval file's folder, as the file writes them. */
  flow: string;
  data: string;
  entries: MappingEntries;
  assertions: AssertionDraft[];
  variants: VariantDraft[];
  /** Percent, 0 to 100; empty: none, and then every row must pass. */
  passRate: string;
  /** The most the rows' 95th percentile latency may be, in ms; empty: no ceiling. */
  p95LatencyMs: string;
  /** The most a variant may cost, in the prices' currency; empty: no ceiling. */
  cost: string;
  metricFloors: MetricFloorDraft[];
  prices: PriceDraft[];
  base: EvalFile | null;
};

export type FormErrors = Record<string, string>;

const text = (value: JsonValue | undefined): string => {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
};

const num = (value: JsonValue | undefined): string => (typeof value === "number" ? String(value) : text(value));

export function emptyAssertion(type: AssertionType = "icontains"): AssertionDraft {
  return { type, output: "", weight: "", metric: "", value: "", rubric: "", connection: "", deployment: "", threshold: "", min: "", max: "", flow: "", inputs: "" };
}

/** `a=${data.x}` lines, as an evaluator flow's inputs are typed. */
function inputsText(value: JsonValue | undefined): string {
  if (!value || typeof value !== "object" || Array.isArray(value)) return "";
  return Object.entries(value)
    .map(([k, v]) => `${k}=${text(v)}`)
    .join("\n");
}

export function draftOf(spec: AssertionSpec): AssertionDraft {
  const type = spec.type;
  return {
    type,
    output: text(spec.output),
    weight: num(spec.weight),
    metric: text(spec.metric),
    // A JSON schema is shown as JSON; the other values as the text they are.
    value: type === "json_schema" && spec.value && typeof spec.value === "object" ? JSON.stringify(spec.value, null, 2) : text(spec.value),
    rubric: text(spec.rubric),
    connection: text(spec.connection),
    deployment: text(spec.deployment),
    threshold: num(spec.threshold),
    min: num(spec.min),
    max: num(spec.max),
    flow: text(spec.flow),
    inputs: inputsText(spec.inputs),
  };
}

/** A variant's value as typed: JSON when it reads as JSON (numbers, true, lists…), else the text,
 * as a YAML value reads. */
export function parseSetValue(typed: string): JsonValue {
  const trimmed = typed.trim();
  if (trimmed === "") return "";
  try {
    return JSON.parse(trimmed) as JsonValue;
  } catch {
    return typed;
  }
}

/** The inverse of parseSetValue: a string that would read back as something else is quoted. */
export function setValueText(value: unknown): string {
  if (typeof value === "string") return typeof parseSetValue(value) === "string" ? value : JSON.stringify(value);
  return JSON.stringify(value ?? null);
}

export function formOf(file: EvalFile, inputNames: readonly string[]): EvalForm {
  return {
    name: file.name ?? "",
    description: file.description ?? "",
    flow: file.flow,
    data: file.data,
    entries: entriesFrom(inputNames, file.column_mapping ?? {}),
    assertions: (file.assert ?? []).map(draftOf),
    variants: (file.variants ?? []).map((v) => ({
      name: v.name,
      sets: Object.entries(v.set).map(([target, value]) => {
        const dot = target.indexOf(".");
        return { node: dot < 0 ? target : target.slice(0, dot), property: dot < 0 ? "" : target.slice(dot + 1), value: setValueText(value) };
      }),
    })),
    passRate: file.thresholds?.pass_rate === undefined ? "" : String(Math.round(file.thresholds.pass_rate * 10000) / 100),
    p95LatencyMs: num(file.thresholds?.p95_latency_ms),
    cost: num(file.thresholds?.cost),
    metricFloors: Object.entries(file.thresholds?.metrics ?? {}).map(([metric, floor]) => ({ metric, floor: String(floor) })),
    prices: Object.entries(file.prices ?? {}).map(([name, p]) => ({ name, input: String(p.input), output: String(p.output) })),
    base: file,
  };
}

/** A new eval of the flow at `flow` (relative to where the eval file goes). */
export function newForm(flow: string, title: string, inputNames: readonly string[]): EvalForm {
  return {
    name: title,
    description: "",
    flow,
    data: "",
    entries: entriesFrom(inputNames, {}),
    assertions: [emptyAssertion()],
    variants: [],
    passRate: "",
    p95LatencyMs: "",
    cost: "",
    metricFloors: [],
    prices: [],
    base: null,
  };
}

function number(errors: FormErrors, key: string, typed: string, check: (n: number) => string | null): number | undefined {
  const trimmed = typed.trim();
  if (!trimmed) return undefined;
  const n = Number(trimmed);
  const problem = Number.isFinite(n) ? check(n) : "Type a number.";
  if (problem) errors[key] = problem;
  return problem ? undefined : n;
}

const nonNegative = (n: number) => (n < 0 ? "Type a number of 0 or more." : null);
const unit = (n: number) => (n < 0 || n > 1 ? "Type a number from 0 to 1." : null);

function specOf(draft: AssertionDraft, key: string, errors: FormErrors): AssertionSpec {
  const fields = FIELDS[draft.type];
  // Only the type's own fields are written: Rust refuses a field the type does not take.
  const spec: AssertionSpec = { type: draft.type };
  if (takesOutput(draft.type) && draft.output.trim()) spec.output = draft.output.trim();
  const weight = number(errors, `${key}.weight`, draft.weight, (n) => (n <= 0 ? "Type a weight above 0." : null));
  if (weight !== undefined) spec.weight = weight;
  if (draft.metric.trim()) spec.metric = draft.metric.trim();
  const need = (field: AssertionField, message: string) => {
    if (!draft[field].trim()) errors[`${key}.${field}`] = message;
  };
  for (const field of fields) {
    switch (field) {
      case "value":
        if (draft.type === "json_schema") {
          try {
            const schema = JSON.parse(draft.value) as JsonValue;
            if (!schema || typeof schema !== "object" || Array.isArray(schema)) throw new Error("not an object");
            spec.value = schema;
          } catch {
            errors[`${key}.value`] = 'Type a JSON schema object, like {"type": "object"}.';
          }
        } else {
          // Text is compared as typed: spaces count.
          need("value", draft.type === "similar" ? "Type the text the output should be close to." : "Type the value to check for.");
          spec.value = draft.value;
        }
        break;
      case "rubric":
        need("rubric", "Say what the judge should check, like “Answers without inventing facts”.");
        spec.rubric = draft.rubric;
        break;
      case "connection":
      case "deployment":
        need(field, `Name the ${field} the ${draft.type === "similar" ? "embeddings" : "judge"} calls.`);
        spec[field] = draft[field].trim();
        break;
      case "flow":
        need("flow", "Give the evaluator flow's file, relative to this eval file.");
        spec.flow = draft.flow.trim();
        break;
      case "inputs": {
        const inputs: Record<string, string> = {};
        draft.inputs.split("\n").forEach((line, i) => {
          if (!line.trim()) return;
          const eq = line.indexOf("=");
          if (eq <= 0) errors[`${key}.inputs`] = `Line ${i + 1}: write INPUT=\${data.COLUMN} or INPUT=\${run.outputs.NAME}.`;
          else inputs[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
        });
        spec.inputs = inputs;
        break;
      }
      case "threshold": {
        const threshold = number(errors, `${key}.threshold`, draft.threshold, unit);
        if (threshold !== undefined) spec.threshold = threshold;
        break;
      }
      case "min":
      case "max": {
        const bound = number(errors, `${key}.${field}`, draft[field], nonNegative);
        if (bound !== undefined) spec[field] = bound;
        break;
      }
    }
  }
  if (draft.type === "length" && !draft.min.trim() && !draft.max.trim()) errors[`${key}.max`] = "Give a minimum, a maximum or both.";
  if ((draft.type === "latency_ms" || draft.type === "tokens" || draft.type === "cost") && !draft.max.trim()) errors[`${key}.max`] ??= "Give the most a row may take.";
  const min = spec.min;
  const max = spec.max;
  if (typeof min === "number" && typeof max === "number" && min > max) errors[`${key}.max`] = "The maximum is below the minimum.";
  return spec;
}

/** The thresholds the form edits; a field left empty is absent from the file. */
function thresholdsOf(form: EvalForm, errors: FormErrors): Thresholds {
  const thresholds: Thresholds = {};
  const passRate = number(errors, "passRate", form.passRate, (n) => (n < 0 || n > 100 ? "Type a percentage from 0 to 100." : null));
  if (passRate !== undefined) thresholds.pass_rate = passRate / 100;
  const p95 = number(errors, "p95LatencyMs", form.p95LatencyMs, nonNegative);
  if (p95 !== undefined) thresholds.p95_latency_ms = p95;
  const cost = number(errors, "cost", form.cost, nonNegative);
  if (cost !== undefined) thresholds.cost = cost;
  const metrics: Record<string, number> = {};
  const seen = new Set<string>();
  form.metricFloors.forEach((row, i) => {
    const metric = row.metric.trim();
    const floor = number(errors, `metrics.${i}.floor`, row.floor, unit);
    // A floor cleared is no floor; a floor without its metric cannot be checked.
    if (!row.floor.trim()) return;
    if (!metric) errors[`metrics.${i}.metric`] = "Choose the metric this floor is for.";
    else if (seen.has(metric)) errors[`metrics.${i}.metric`] = `The metric ${metric} has another floor.`;
    else if (floor !== undefined) metrics[metric] = floor;
    seen.add(metric);
  });
  if (Object.keys(metrics).length) thresholds.metrics = metrics;
  return thresholds;
}

/** `prices:` as the file spells it: name -> { input, output } per million tokens. */
function pricesOf(rows: readonly PriceDraft[], errors: FormErrors): Record<string, Price> {
  const prices: Record<string, Price> = {};
  const seen = new Set<string>();
  rows.forEach((row, i) => {
    const name = row.name.trim();
    if (!name && !row.input.trim() && !row.output.trim()) return;
    if (!name) errors[`prices.${i}.name`] = "Name the deployment or model this price is for.";
    else if (seen.has(name)) errors[`prices.${i}.name`] = `${name} has another price; keep one.`;
    const duplicate = seen.has(name);
    seen.add(name);
    const input = number(errors, `prices.${i}.input`, row.input, nonNegative);
    const output = number(errors, `prices.${i}.output`, row.output, nonNegative);
    if (!row.input.trim()) errors[`prices.${i}.input`] = "Type the price of a million input tokens.";
    if (!row.output.trim()) errors[`prices.${i}.output`] = "Type the price of a million output tokens.";
    if (name && !duplicate && input !== undefined && output !== undefined) prices[name] = { input, output };
  });
  return prices;
}

/** The eval file the form describes, or what to fix, keyed `data`, `assert.0.value`, `variants.1.name`… */
export function fileOf(form: EvalForm): { ok: true; file: EvalFile } | { ok: false; errors: FormErrors } {
  const errors: FormErrors = {};
  if (!form.data.trim()) errors.data = "Choose the data file the eval runs over.";
  if (!form.assertions.length) errors.assert = "Add at least one assertion: it is what a row passes or fails.";
  const assert = form.assertions.map((a, i) => specOf(a, `assert.${i}`, errors));
  const names = new Set<string>();
  const variants = form.variants.map((v, i) => {
    const name = v.name.trim();
    if (!name) errors[`variants.${i}.name`] = "Name the variant; the results show it as a column.";
    else if (names.has(name)) errors[`variants.${i}.name`] = `Another variant is called ${name}.`;
    names.add(name);
    const set: Record<string, JsonValue> = {};
    v.sets.forEach((s, j) => {
      if (!s.node || !s.property) errors[`variants.${i}.set.${j}`] = "Choose a node and one of its properties.";
      else if (`${s.node}.${s.property}` in set) errors[`variants.${i}.set.${j}`] = `${s.node}.${s.property} is set twice.`;
      else set[`${s.node}.${s.property}`] = parseSetValue(s.value);
    });
    return { name, set };
  });
  const edited = thresholdsOf(form, errors);
  const prices = pricesOf(form.prices, errors);
  if (Object.keys(errors).length) return { ok: false, errors };
  const base = form.base;
  // Whatever thresholds the form does not know stay as they were; its own are written over them.
  const { pass_rate: _p, p95_latency_ms: _l, cost: _c, metrics: _m, ...kept } = base?.thresholds ?? {};
  void [_p, _l, _c, _m];
  const file: EvalFile = { ...base, flow: form.flow, data: form.data.trim(), assert };
  const optional = { name: form.name.trim(), description: form.description.trim() };
  for (const [key, value] of Object.entries(optional)) {
    if (value) file[key as keyof typeof optional] = value;
    else delete file[key as keyof typeof optional];
  }
  const mapping = mappingOf(form.entries);
  if (Object.keys(mapping).length) file.column_mapping = mapping;
  else delete file.column_mapping;
  if (variants.length) file.variants = variants;
  else delete file.variants;
  const all = { ...kept, ...edited };
  if (Object.keys(all).length) file.thresholds = all;
  else delete file.thresholds;
  if (Object.keys(prices).length) file.prices = prices;
  else delete file.prices;
  return { ok: true, file };
}

/** The metrics the assertions are summarised under (each its `metric`, else its type), for a floor. */
export function metricNames(assertions: readonly AssertionDraft[]): string[] {
  return [...new Set(assertions.map((a) => a.metric.trim() || a.type))];
}

/** The deployments a price may be for: the flow's nodes', the variants' and the judges'. */
export function deploymentNames(nodes: readonly { properties?: { [key in string]?: JsonValue } }[], form: EvalForm): string[] {
  const names = [
    ...nodes.map((n) => n.properties?.deployment),
    ...form.variants.flatMap((v) => v.sets.filter((s) => s.property === "deployment").map((s) => parseSetValue(s.value))),
    ...form.assertions.filter((a) => FIELDS[a.type].includes("deployment")).map((a) => a.deployment.trim()),
  ];
  // A reference (`${inputs.model}`) names no deployment until the flow runs.
  const plain = names.filter((n): n is string => typeof n === "string" && n.trim() !== "" && !n.includes("${"));
  return [...new Set(plain.map((n) => n.trim()))].sort();
}
