import { describe, expect, it } from "vitest";

import type { EvalFile } from "../../ipc/generated/EvalFile";
import { emptyAssertion, fileOf, formOf, newForm, parseSetValue, setValueText } from "./form";

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
  thresholds: { pass_rate: 0.9, p95_latency_ms: 2500 },
  prices: { "gpt-4o": { input: 2.5, output: 10 } },
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
    const back = fileOf(form);
    expect(back).toEqual({ ok: true, file });
  });

  it("keeps the prices and the thresholds it does not edit, and drops a cleared pass rate", () => {
    const form = { ...formOf(file, ["question"]), passRate: "" };
    const back = fileOf(form);
    expect(back.ok && back.file.thresholds).toEqual({ p95_latency_ms: 2500 });
    expect(back.ok && back.file.prices).toEqual(file.prices);
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
