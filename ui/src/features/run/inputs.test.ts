import { describe, expect, it } from "vitest";

import type { FlowDocument } from "../../ipc/generated/FlowDocument";
import { initialDrafts, inputFields, parseInputs, recallInputs, rememberInputs } from "./inputs";

const doc: FlowDocument = {
  schema: 1,
  inputs: {
    question: { type: "string", default: "What is Weft?" },
    count: { type: "number", default: 3 },
    verbose: { type: "bool" },
    options: { type: "object" },
    tags: { type: "list", default: ["a"] },
    api_key: { type: "string", secret: true },
  },
  nodes: [],
};
const fields = inputFields(doc);

function memoryStorage() {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
  };
}

describe("the inputs form", () => {
  it("opens with each input's default, JSON pretty-printed", () => {
    expect(initialDrafts(fields, {})).toEqual({
      question: "What is Weft?",
      count: "3",
      verbose: "false",
      options: "",
      tags: '[\n  "a"\n]',
      api_key: "",
    });
  });

  it("parses each type", () => {
    const parsed = parseInputs(fields, {
      question: "hi",
      count: " 2.5 ",
      verbose: "true",
      options: '{"temperature": 0.2}',
      tags: '["x", 1]',
      api_key: "sk-1",
    });
    expect(parsed).toEqual({
      ok: true,
      values: { question: "hi", count: 2.5, verbose: true, options: { temperature: 0.2 }, tags: ["x", 1], api_key: "sk-1" },
    });
  });

  it("explains invalid JSON, wrong JSON shapes and bad numbers per field", () => {
    const parsed = parseInputs(fields, {
      question: "",
      count: "three",
      verbose: "false",
      options: "{temperature: 0.2}",
      tags: '{"a": 1}',
      api_key: "",
    });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(Object.keys(parsed.errors).sort()).toEqual(["count", "options", "tags"]);
    expect(parsed.errors.count).toBe("“three” is not a number");
    expect(parsed.errors.options).toMatch(/^this is not valid JSON \(.+\); enter a JSON object, like \{"key": "value"\}$/);
    expect(parsed.errors.tags).toBe('this is valid JSON but not a JSON list; enter one like ["a", "b"]');
  });

  it("remembers non-secret values per flow file and never the secret one", () => {
    const storage = memoryStorage();
    const values = { question: "Q1", count: 1, verbose: true, options: {}, tags: [], api_key: "sk-never-stored" };
    rememberInputs(storage, "/flows/a.weft.yaml", fields, values);
    expect([...storage.items.values()].join()).not.toContain("sk-never-stored");

    const recalled = recallInputs(storage, "/flows/a.weft.yaml");
    expect(recalled).toEqual({ question: "Q1", count: 1, verbose: true, options: {}, tags: [] });
    expect(recallInputs(storage, "/flows/b.weft.yaml")).toEqual({});
    expect(initialDrafts(fields, recalled)).toMatchObject({ question: "Q1", verbose: "true", api_key: "" });
  });

  it("does not offer a stored value for an input that has since become secret", () => {
    const storage = memoryStorage();
    storage.setItem("weft.runInputs:(unsaved flow)", JSON.stringify({ api_key: "old", question: "Q" }));
    const drafts = initialDrafts(fields, recallInputs(storage, null));
    expect(drafts.api_key).toBe("");
    rememberInputs(storage, null, fields, { question: "Q2", api_key: "new" });
    expect(storage.items.get("weft.runInputs:(unsaved flow)")).toBe('{"question":"Q2"}');
  });

  it("survives storage that holds garbage or refuses writes", () => {
    const broken = { getItem: () => "{not json", setItem: () => { throw new Error("QuotaExceededError"); } };
    expect(recallInputs(broken, null)).toEqual({});
    expect(() => rememberInputs(broken, null, fields, { question: "x" })).not.toThrow();
  });

  it("treats the inputs Rust names as secret, never stores them and masks them in the others", () => {
    const dynamic: FlowDocument = {
      schema: 1,
      inputs: { key: { type: "string" }, creds: { type: "connection" }, question: { type: "string" } },
      nodes: [],
    };
    const dynamicFields = inputFields(dynamic, new Set(["key"]));
    expect(dynamicFields.map((f) => [f.name, f.secret])).toEqual([
      ["key", true],
      ["creds", false],
      ["question", false],
    ]);
    const storage = memoryStorage();
    rememberInputs(storage, null, dynamicFields, {
      key: "sk-plain-but-secret",
      creds: { note: "also sk-plain-but-secret" },
      question: "Repeat sk-plain-but-secret",
    });
    expect([...storage.items.values()].join()).not.toContain("sk-plain-but-secret");
    expect(recallInputs(storage, null)).toEqual({ creds: { note: "also ******" }, question: "Repeat ******" });
    // A connection-typed input is sent as an object, as the engine expects.
    const parsed = parseInputs(dynamicFields, { key: "k", creds: '{"connection": "c"}', question: "Q" });
    expect(parsed).toEqual({ ok: true, values: { key: "k", creds: { connection: "c" }, question: "Q" } });
  });
});
