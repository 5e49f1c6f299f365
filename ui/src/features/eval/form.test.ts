import { describe, expect, it } from "vitest";

import type { EvalFile } from "../../ipc/generated/EvalFile";
import { deploymentNames, emptyAssertion, fileOf, formOf, metricNames, newForm, parseSetValue, setValueText } from "./form";

const file: EvalFile = {
  name: "Chat answers",
  flow: "chat.weft.yaml",
  data: "questions.jsonl",
  column_mapping: { question: "${data.q}" },
  variants: [
    { name: "mini", set: { "chat.deployment": "gpt-4o-mini", "chat.temperature": 0.2 } },
    { name: "large", set: { "chat.deployment": "gpt-4o" } },
  ],
  assert: [
    { output: "answer", type: "icontains", value: "${data.expected}" },
    { output: "answer", type: "llm_judge", rubric: "No invented facts", connection: "judge", deployment: "gpt-4o", weight: 2 },
    { type: "latency_ms", max: 3000 },
    { type: "json_schema", value: { type: "object" } },
  ],
  thresholds: { pass_rate: 0.9, p95_latency_ms: 2500, cost: 0.5, metrics: { llm_judge: 0.8 } },
  prices: { "gpt-4o": { input: 2.5, output: 10 }, "gpt-4o-mini": { input: 0.15, output: 0.6 } },
};

describe("the eval form", () => {
  it("reads a file and writes the same file back when nothing was edited", () => {
    const form = formOf(file, ["question"]);
    expect(form.passRate).toBe("90");
    expect(form.variants[0]?.sets).toEqual([
      { node: "chat", property: "deployment", value: "gpt-4o-mini" },
      { node: "chat", property: "temperature", value: "0.2" },
    ]);
    expect(form.entries.question).toEqual({ kind: "column", column: "q" });
    expect([form.p95LatencyMs, form.cost]).toEqual(["2500", "0.5"]);
    expect(form.metricFloors).toEqual([{ metric: "llm_judge", floor: "0.8" }]);
    expect(form.prices).toEqual([
      { name: "gpt-4o", input: "2.5", output: "10" },
      { name: "gpt-4o-mini", input: "0.15", output: "0.6" },
    ]);
    const back = fileOf(form);
    expect(back).toEqual({ ok: true, file });
  });

  it("drops a cleared threshold, a cleared metric floor and a removed price from the file", () => {
    const read = formOf(file, ["question"]);
    const form = { ...read, passRate: "", cost: " ", metricFloors: [{ metric: "llm_judge", floor: "" }], prices: read.prices.slice(1) };
    const back = fileOf(form);
    expect(back.ok && back.file.thresholds).toEqual({ p95_latency_ms: 2500 });
    expect(back.ok && back.file.prices).toEqual({ "gpt-4o-mini": { input: 0.15, output: 0.6 } });
    const none = fileOf({ ...form, p95LatencyMs: "", prices: [{ name: "", input: "", output: "" }] });
    expect(none.ok && "thresholds" in none.file).toBe(false);
    expect(none.ok && "prices" in none.file).toBe(false);
  });

  it("writes the prices and thresholds typed into a new eval, numbers as numbers", () => {
    const form = newForm("chat.weft.yaml", "Chat", []);
    form.data = "q.csv";
    form.assertions = [emptyAssertion("is_json")];
    form.prices = [{ name: " gpt-4o ", input: "2.50", output: "10" }, { name: "local", input: "0", output: "0" }];
    form.p95LatencyMs = "1500";
    form.cost = "0.25";
    form.metricFloors = [{ metric: "faithful", floor: "0.75" }];
    const back = fileOf(form);
    expect(back.ok && back.file.prices).toEqual({ "gpt-4o": { input: 2.5, output: 10 }, local: { input: 0, output: 0 } });
    expect(back.ok && back.file.thresholds).toEqual({ p95_latency_ms: 1500, cost: 0.25, metrics: { faithful: 0.75 } });
  });

  it("refuses a price or a threshold that is not a number, a duplicate name and a half-typed price", () => {
    const form = newForm("chat.weft.yaml", "", []);
    form.data = "q.csv";
    form.assertions = [emptyAssertion("is_json")];
    form.prices = [
      { name: "gpt-4o", input: "cheap", output: "10" },
      { name: "gpt-4o", input: "1", output: "2" },
      { name: "", input: "1", output: "" },
      { name: "mini", input: "-1", output: "0.6" },
    ];
    form.p95LatencyMs = "soon";
    form.cost = "-2";
    form.metricFloors = [
      { metric: "faithful", floor: "1.5" },
      { metric: "faithful", floor: "0.5" },
      { metric: "", floor: "0.5" },
    ];
    const back = fileOf(form);
    expect(back.ok).toBe(false);
    if (back.ok) return;
    expect(back.errors).toEqual({
      "prices.0.input": "Type a number.",
      "prices.1.name": "gpt-4o has another price; keep one.",
      "prices.2.name": "Name the deployment or model this price is for.",
      "prices.2.output": "Type the price of a million output tokens.",
      "prices.3.input": "Type a number of 0 or more.",
      p95LatencyMs: "Type a number.",
      cost: "Type a number of 0 or more.",
      "metrics.0.floor": "Type a number from 0 to 1.",
      "metrics.1.metric": "The metric faithful has another floor.",
      "metrics.2.metric": "Choose the metric this floor is for.",
    });
  });

  it("writes only the fields of an assertion's type, with numbers as numbers", () => {
    const form = newForm("chat.weft.yaml", "Chat", ["question"]);
    form.data = "q.csv";
    form.assertions = [
      { ...emptyAssertion("length"), output: "answer", min: "1", max: "200", value: "left over from another type" },
      { ...emptyAssertion("similar"), value: "Paris", threshold: "0.85", connection: "emb", deployment: "text-embedding-3-small", metric: "closeness" },
    ];
    const back = fileOf(form);
    expect(back.ok && back.file.assert).toEqual([
      { type: "length", output: "answer", min: 1, max: 200 },
      { type: "similar", value: "Paris", threshold: 0.85, connection: "emb", deployment: "text-embedding-3-small", metric: "closeness" },
    ]);
    expect(back.ok && back.file.name).toBe("Chat");
  });

  it("says per field what to fix", () => {
    const form = newForm("chat.weft.yaml", "", []);
    form.assertions = [
      { ...emptyAssertion("llm_judge") },
      { ...emptyAssertion("latency_ms"), max: "fast" },
      { ...emptyAssertion("length"), min: "10", max: "5" },
      { ...emptyAssertion("json_schema"), value: "{not json" },
      { ...emptyAssertion("contains"), weight: "0" },
    ];
    form.variants = [
      { name: "a", sets: [{ node: "chat", property: "", value: "x" }] },
      { name: "a", sets: [] },
    ];
    form.passRate = "120";
    const back = fileOf(form);
    expect(back.ok).toBe(false);
    if (back.ok) return;
    expect(Object.keys(back.errors).sort()).toEqual(
      [
        "data",
        "assert.0.rubric",
        "assert.0.connection",
        "assert.0.deployment",
        "assert.1.max",
        "assert.2.max",
        "assert.3.value",
        "assert.4.value",
        "assert.4.weight",
        "variants.0.set.0",
        "variants.1.name",
        "passRate",
      ].sort(),
    );
    expect(back.errors["assert.2.max"]).toMatch(/below the minimum/);
    expect(back.errors["variants.1.name"]).toMatch(/Another variant is called a/);
  });

  it("reads an evaluator flow's inputs as INPUT=reference lines", () => {
    const form = newForm("chat.weft.yaml", "", []);
    form.data = "d.jsonl";
    form.assertions = [{ ...emptyAssertion("flow"), flow: "judge.weft.yaml", inputs: "answer=${run.outputs.answer}\n\nexpected = ${data.expected}" }];
    const back = fileOf(form);
    expect(back.ok && back.file.assert).toEqual([
      { type: "flow", flow: "judge.weft.yaml", inputs: { answer: "${run.outputs.answer}", expected: "${data.expected}" } },
    ]);
    const again = formOf(back.ok ? back.file : file, []);
    expect(again.assertions[0]?.inputs).toBe("answer=${run.outputs.answer}\nexpected=${data.expected}");
    form.assertions[0]!.inputs = "no equals sign";
    const bad = fileOf(form);
    expect(!bad.ok && bad.errors["assert.0.inputs"]).toMatch(/Line 1/);
  });

  it("types a variant's value as YAML would read it, and quotes text that would read otherwise", () => {
    expect(parseSetValue("0.7")).toBe(0.7);
    expect(parseSetValue("true")).toBe(true);
    expect(parseSetValue("gpt-4o")).toBe("gpt-4o");
    expect(parseSetValue('["a"]')).toEqual(["a"]);
    expect(setValueText("0.7")).toBe('"0.7"');
    expect(parseSetValue(setValueText("0.7"))).toBe("0.7");
    expect(setValueText("gpt-4o")).toBe("gpt-4o");
    expect(setValueText(3)).toBe("3");
  });
});

describe("what the price and floor rows offer", () => {
  it("offers the deployments of the flow's nodes, the variants and the judges, once each, but no reference", () => {
    const form = formOf(file, ["question"]);
    const nodes = [{ properties: { deployment: "gpt-4o-mini" } }, { properties: { deployment: "${inputs.model}" } }, {}];
    expect(deploymentNames(nodes, form)).toEqual(["gpt-4o", "gpt-4o-mini"]);
    form.assertions.push({ ...emptyAssertion("similar"), deployment: "text-embedding-3-small" });
    expect(deploymentNames([], form)).toEqual(["gpt-4o", "gpt-4o-mini", "text-embedding-3-small"]);
  });

  it("offers the assertions' metric names, the type where an assertion names none", () => {
    const form = formOf(file, []);
    form.assertions[1]!.metric = "faithful";
    expect(metricNames(form.assertions)).toEqual(["icontains", "faithful", "latency_ms", "json_schema"]);
  });
});
