import { CompletionContext } from "@codemirror/autocomplete";
import { EditorState } from "@codemirror/state";
import { describe, expect, it } from "vitest";

import type { FlowDocument } from "../../../ipc/generated/FlowDocument";
import { completions, insideJinja } from "./completion";

const doc: FlowDocument = {
  schema: 1,
  title: "T",
  inputs: { question: { type: "string" } },
  nodes: [
    { id: "inputs", type: "inputs", position: { x: 0, y: 0 } },
    { id: "prompt", type: "prompt_template", position: { x: 0, y: 0 }, properties: { template: "", variables: { name: "Ada", topic: "${inputs.question}" } } },
    { id: "chat", type: "chat_completion", position: { x: 0, y: 0 } },
  ],
};

function complete(text: string, mode: "template" | "expression", explicit = false) {
  const state = EditorState.create({ doc: text });
  const result = completions(() => doc, "prompt", mode)(new CompletionContext(state, text.length, explicit));
  return result?.options.map((o) => o.label) ?? null;
}

describe("template completion", () => {
  it("knows when the cursor is inside {{ }} or {% %}", () => {
    expect(insideJinja("Hi {{ na")).toBe(true);
    expect(insideJinja("{% if x %}done")).toBe(false);
    expect(insideJinja("{{ a }} and {%  ")).toBe(true);
    expect(insideJinja("plain")).toBe(false);
  });

  it("offers the node's template variables inside Jinja, and nothing in plain text", () => {
    expect(complete("Hello {{ ", "template")).toEqual(["name", "topic"]);
    expect(complete("Hello {{ na", "template")).toEqual(["name", "topic"]);
    expect(complete("Hello na", "template")).toBeNull();
    expect(complete("score > na", "expression")).toEqual(["name", "topic"]);
  });

  it("offers ${…} references to inputs and other nodes' outputs, not the node's own", () => {
    const labels = complete("Use ${", "template")!;
    expect(labels).toContain("${inputs.question}");
    expect(labels).toContain("${chat.output}");
    expect(labels).not.toContain("${prompt.output}");
  });
});
