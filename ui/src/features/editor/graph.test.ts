import { describe, expect, it } from "vitest";
import { parse } from "yaml";

import type { FlowDocument } from "../../ipc/generated/FlowDocument";
import { NEW_OUTPUT } from "./catalog";
import { connect, connectionProblem, disconnect, documentEdges, documentToGraph, graphToDocument, removeNodes, renameNode } from "./graph";
import { findReferences, renameReferences, uniqueId } from "./references";

// The real example files, parsed as Rust would read them.
const sources = import.meta.glob<string>("../../../../examples/*.weft.yaml", { query: "?raw", import: "default", eager: true });
const byName = new Map(Object.entries(sources).map(([path, text]) => [path.split("/").pop()!, text]));
const files = [...byName.keys()];
const load = (name: string) => parse(byName.get(name) ?? "") as FlowDocument;

const wires = (doc: FlowDocument) => documentEdges(doc).map((e) => `${e.source}.${e.sourceHandle} → ${e.target}.${e.targetHandle}`);

describe("flow document ↔ canvas", () => {
  it("finds the example flows", () => expect(files.length).toBeGreaterThanOrEqual(4));

  it.each(files)("%s survives document → canvas → document unchanged", (file) => {
    const doc = load(file);
    const { nodes, edges } = documentToGraph(doc);
    expect(nodes).toHaveLength(doc.nodes.length + (doc.notes?.length ?? 0));
    expect(graphToDocument(doc, nodes)).toEqual(doc);
    expect(edges.length).toBeGreaterThan(0);
  });

  it.each(files)("%s opens with no card over another", (file) => {
    const cards = documentToGraph(load(file)).nodes.filter((n) => n.type !== "note");
    const overlaps: string[] = [];
    for (const [i, a] of cards.entries()) {
      for (const b of cards.slice(i + 1)) {
        const apart =
          a.position.x + a.measured!.width! <= b.position.x ||
          b.position.x + b.measured!.width! <= a.position.x ||
          a.position.y + a.measured!.height! <= b.position.y ||
          b.position.y + b.measured!.height! <= a.position.y;
        if (!apart) overlaps.push(`${a.id} × ${b.id}`);
      }
    }
    expect(overlaps).toEqual([]);
  });

  it("draws each reference as a wire, variables entries and flow outputs included", () => {
    expect(wires(load("condition-branches.weft.yaml"))).toEqual([
      "inputs.text → route.variables",
      "route.true → summarize.when",
      "inputs.text → summarize.variables",
      "route.false → answer.when",
      "inputs.text → answer.variables",
      "inputs.text → keywords.variables",
      "summarize.output → outputs.summary",
      "answer.output → outputs.answer",
      "keywords.output → outputs.keywords",
    ]);
    // `${vars.connection}` is read through the variable, not a wire.
    expect(wires(load("dynamic-connection.weft.yaml"))).not.toContainEqual(expect.stringContaining("dynamic_connection"));
  });

  it("draws references embedded in text and skips ones to missing nodes", () => {
    const doc: FlowDocument = {
      schema: 1,
      nodes: [
        { id: "a", type: "prompt_template", position: { x: 0, y: 0 }, properties: { template: "x" } },
        { id: "b", type: "set_variable", position: { x: 0, y: 0 }, properties: { name: "n", value: "pre ${a.output} post ${ghost.output}" } },
      ],
    };
    expect(wires(doc)).toEqual(["a.output → b.value"]);
  });
});

describe("wiring writes references", () => {
  const chat = () => load("chat.weft.yaml");
  const withPrompt = (): FlowDocument => {
    const doc = chat();
    return { ...doc, nodes: [...doc.nodes, { id: "prompt", type: "prompt_template", position: { x: 0, y: 0 }, properties: { template: "Hi" } }] };
  };

  it("a wire into variables adds an entry named after the source, unique", () => {
    let doc = withPrompt();
    for (let i = 0; i < 2; i++) {
      const result = connect(doc, { source: "inputs", sourceHandle: "question", target: "prompt", targetHandle: "variables" });
      if ("reason" in result) throw new Error(result.reason);
      doc = result.document;
    }
    // The same reference twice is one entry.
    expect(doc.nodes.at(-1)!.properties!.variables).toEqual({ question: "${inputs.question}" });
    const second = connect(doc, { source: "chat", sourceHandle: "output", target: "prompt", targetHandle: "variables" });
    if ("reason" in second) throw new Error(second.reason);
    expect(second.document.nodes.at(-1)!.properties!.variables).toEqual({ question: "${inputs.question}", chat: "${chat.output}" });
  });

  it("a wire into a property sets it to the reference, and deleting the wire clears it", () => {
    const result = connect(withPrompt(), { source: "prompt", sourceHandle: "output", target: "chat", targetHandle: "deployment" });
    if ("reason" in result) throw new Error(result.reason);
    expect(result.document.nodes[1]!.properties!.deployment).toBe("${prompt.output}");
    const edge = documentEdges(result.document).find((e) => e.targetHandle === "deployment")!;
    expect(disconnect(result.document, edge).nodes[1]!.properties!.deployment).toBeUndefined();
  });

  it("a wire onto the outputs node's new-output handle adds a flow output", () => {
    const result = connect(withPrompt(), { source: "prompt", sourceHandle: "output", target: "outputs", targetHandle: NEW_OUTPUT });
    if ("reason" in result) throw new Error(result.reason);
    expect(result.document.outputs).toEqual({ answer: { value: "${chat.output}" }, prompt: { value: "${prompt.output}" } });
    const edge = documentEdges(result.document).find((e) => e.targetHandle === "prompt")!;
    expect(disconnect(result.document, edge).outputs).toEqual({ answer: { value: "${chat.output}" } });
  });

  it("deleting a variables wire removes only its entry; deleting a node removes the wires out of it", () => {
    const doc = chat();
    const edge = documentEdges(doc).find((e) => e.targetHandle === "variables")!;
    expect(disconnect(doc, edge).nodes[1]!.properties!.variables).toBeUndefined();
    const without = removeNodes(doc, new Set(["chat"]));
    expect(without.nodes.map((n) => n.id)).toEqual(["inputs", "outputs"]);
    expect(without.outputs).toEqual({});
  });

  it("refuses invalid wires with a reason", () => {
    const doc = withPrompt();
    const problem = (source: string, sourceHandle: string, target: string, targetHandle: string) =>
      connectionProblem(doc, { source, sourceHandle, target, targetHandle });
    expect(problem("chat", "output", "chat", "variables")).toMatch(/its own output/);
    expect(problem("inputs", "question", "chat", "user_prompt")).toMatch(/connect to Variables/);
    expect(problem("inputs", "question", "chat", "response_format")).toMatch(/one of text, json_object/);
    expect(problem("chat", "finish_reason", "chat", "stream")).toMatch(/own output/);
    expect(problem("prompt", "output", "chat", "temperature")).toBe("string cannot flow into Temperature (number)");
    expect(problem("prompt", "output", "chat", "stream")).toMatch(/on\/off setting/);
    // prompt → chat, then chat → prompt, would be a loop.
    const wired = connect(doc, { source: "prompt", sourceHandle: "output", target: "chat", targetHandle: "variables" });
    if ("reason" in wired) throw new Error(wired.reason);
    expect(connectionProblem(wired.document, { source: "chat", sourceHandle: "output", target: "prompt", targetHandle: "variables" })).toMatch(/close a loop/);
    expect(problem("prompt", "output", "chat", "variables")).toBeNull();
    expect(problem("chat", "usage", "chat", "json_schema")).toMatch(/own output/);
  });
});

describe("ids and references", () => {
  it("parses references with paths and skips malformed ones", () => {
    const refs = findReferences("Q: ${inputs.q} ${vars.v} ${chat.output.a.0} ${bad} ${x..y}");
    expect(refs.map((r) => r.source)).toEqual([
      { kind: "input", name: "q" },
      { kind: "var", name: "v" },
      { kind: "node", id: "chat", port: "output" },
    ]);
    expect(refs[2]!.path).toEqual(["a", "0"]);
    expect(renameReferences("a ${chat.output.x} b ${chatty.output}", (id) => (id === "chat" ? "answer" : undefined))).toBe("a ${answer.output.x} b ${chatty.output}");
  });

  it("makes readable unique ids", () => {
    expect(uniqueId("chat", new Set())).toBe("chat");
    expect(uniqueId("chat", new Set(["chat", "chat_2"]))).toBe("chat_3");
    expect(uniqueId("chat_2", new Set(["chat", "chat_2"]))).toBe("chat_3");
  });

  it("renaming a node rewrites every reference to it, outputs included", () => {
    const doc = load("condition-branches.weft.yaml");
    const result = renameNode(doc, "route", "is_long");
    if ("reason" in result) throw new Error(result.reason);
    expect(result.document.nodes.map((n) => n.id)).toContain("is_long");
    expect(result.document.nodes.find((n) => n.id === "summarize")!.properties!.when).toBe("${is_long.true}");
    const again = renameNode(result.document, "summarize", "short");
    if ("reason" in again) throw new Error(again.reason);
    expect(again.document.outputs!.summary!.value).toBe("${short.output}");
    expect(renameNode(doc, "route", "answer")).toEqual({ reason: "another node is already `answer`" });
    expect(renameNode(doc, "route", "2x")).toHaveProperty("reason");
  });
});
