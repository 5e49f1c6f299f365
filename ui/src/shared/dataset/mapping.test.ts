import { describe, expect, it } from "vitest";

import type { FlowInput } from "../../ipc/generated/FlowInput";
import { entriesFrom, entryText, mappingOf, mappingProblems, parseEntry, unmappedSource } from "./mapping";

const inputs: Record<string, FlowInput> = {
  question: { type: "string" },
  tone: { type: "string", default: "friendly" },
  topic: { type: "string" },
  count: { type: "number" },
};

describe("mapping text", () => {
  it("reads ${data.COLUMN} as a column and anything else as a static value", () => {
    expect(parseEntry("${data.Question}")).toEqual({ kind: "column", column: "Question" });
    expect(parseEntry("${data. my col }")).toEqual({ kind: "column", column: "my col" });
    // Rust reads `${ data.x }` as no reference it knows, so it is no column here either.
    expect(parseEntry("${ data.x }")).toEqual({ kind: "static", value: "${ data.x }" });
    expect(parseEntry("formal")).toEqual({ kind: "static", value: "formal" });
    expect(parseEntry(" ${data.q} ")).toEqual({ kind: "column", column: "q" });
    expect(parseEntry("${data}")).toEqual({ kind: "static", value: "${data}" });
    expect(parseEntry("${data.}")).toEqual({ kind: "static", value: "${data.}" });
  });

  it("writes back what it read", () => {
    for (const text of ["${data.q}", "${data.a.b}", "plain text", ""]) expect(entryText(parseEntry(text))).toBe(text);
    expect(entryText({ kind: "unmapped" })).toBeNull();
  });

  it("starts from the suggestion: suggested inputs mapped, the others unmapped", () => {
    const entries = entriesFrom(Object.keys(inputs), { question: "${data.Question}", count: "3" });
    expect(entries).toEqual({
      question: { kind: "column", column: "Question" },
      tone: { kind: "unmapped" },
      topic: { kind: "unmapped" },
      count: { kind: "static", value: "3" },
    });
    // Unmapped inputs are left out of what batch_start gets: Rust applies the default or the same-named column.
    expect(mappingOf(entries)).toEqual({ question: "${data.Question}", count: "3" });
  });
});

describe("mapping problems", () => {
  const columns = ["Question", "topic"];

  it("accepts inputs that a column, a static value, a default or a same-named column fills", () => {
    const entries = entriesFrom(Object.keys(inputs), { question: "${data.Question}", count: "3" });
    expect(mappingProblems(inputs, entries, columns, true)).toEqual({});
    expect(unmappedSource(inputs.tone as FlowInput, "tone", columns)).toBe("its default");
    expect(unmappedSource(inputs.topic as FlowInput, "topic", columns)).toBe("the column topic");
  });

  it("names an input nothing fills", () => {
    const entries = entriesFrom(Object.keys(inputs), { question: "${data.Question}" });
    expect(Object.keys(mappingProblems(inputs, entries, columns, true))).toEqual(["count"]);
    expect(mappingProblems(inputs, entries, columns, true).count).toMatch(/choose a column or type a value/);
  });

  it("refuses a column the CSV header lacks, but not a JSONL key beyond the first object's", () => {
    const entries = entriesFrom(Object.keys(inputs), { question: "${data.Prompt}", count: "1" });
    expect(mappingProblems(inputs, entries, columns, true).question).toMatch(/no column Prompt/);
    expect(mappingProblems(inputs, entries, columns, false)).toEqual({});
  });

  it("refuses references other than ${data.COLUMN} in a static value, as Rust does", () => {
    for (const text of ["${run.outputs.n}", "Hello ${data.Question}", "${data.}"]) {
      const entries = entriesFrom(Object.keys(inputs), { question: text, count: "1" });
      expect(mappingProblems(inputs, entries, columns, true).question).toMatch(/Only \$\{data\.COLUMN\}/);
    }
  });

  it("reads a static value as its input's type, like a CSV cell", () => {
    const typed: Record<string, FlowInput> = {
      n: { type: "number" },
      flag: { type: "bool" },
      opts: { type: "object" },
      tags: { type: "list" },
    };
    const problems = (values: Record<string, string>) => mappingProblems(typed, entriesFrom(Object.keys(typed), values), [], true);
    expect(problems({ n: " 2.5 ", flag: "TRUE", opts: '{"a": 1}', tags: "[1, 2]" })).toEqual({});
    expect(problems({ n: "two", flag: "yes", opts: "[1]", tags: "{}" })).toEqual({
      n: "Type a number.",
      flag: "Type true or false.",
      opts: 'Type a JSON object, like {"a": 1}.',
      tags: "Type a JSON list, like [1, 2].",
    });
  });

  it("asks for a column when the column choice is still empty", () => {
    const entries = { ...entriesFrom(Object.keys(inputs), { count: "1" }), question: { kind: "column" as const, column: "" } };
    expect(mappingProblems(inputs, entries, columns, true).question).toBe("Choose a column.");
  });
});
