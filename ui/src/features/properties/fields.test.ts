import { describe, expect, it } from "vitest";

import type { FlowDocument } from "../../ipc/generated/FlowDocument";
import { catalog } from "../editor/catalog";
import type { ConnectionView } from "../../ipc/generated/ConnectionView";
import { asText, connectionChoices, fieldsFor, nodeProblems, referenceChoices, wrongTypeMessage } from "./fields";

const view = (name: string, type: ConnectionView["type"]): ConnectionView => ({
  id: name,
  name,
  type,
  config: {},
  secrets: {},
  createdAt: "2026-12-02T00:00:00Z",
  updatedAt: "2026-12-02T00:00:00Z",
});

describe("property form", () => {
  it("has one field per property spec of the kind, in order, with its editor", () => {
    const node = { id: "chat", type: "chat_completion" as const, position: { x: 0, y: 0 }, properties: { deployment: "gpt-4o-mini", temperature: 0.2 } };
    const fields = fieldsFor(node, []);
    const spec = catalog.find((k) => k.kind === "chat_completion")!;
    expect(fields.map((f) => f.spec.key)).toEqual(spec.properties.map((p) => p.key));
    const byKey = Object.fromEntries(fields.map((f) => [f.spec.key, f]));
    expect(byKey.deployment!.value).toBe("gpt-4o-mini");
    expect(byKey.temperature!.spec.editor).toEqual({ type: "number", min: 0, max: 2, step: 0.1 });
    expect(byKey.response_format!.spec.editor).toMatchObject({ type: "select", options: ["text", "json_object", "json_schema"] });
    expect(byKey.user_prompt!.spec.editor.type).toBe("template");
    expect(byKey.variables!.spec.editor.type).toBe("map");
    expect(byKey.connection!.spec.editor.type).toBe("connection");
    expect(fieldsFor({ ...node, type: "condition" as const }, []).map((f) => f.spec.key)).toEqual(["expression", "variables", "when"]);
  });

  it("puts each validator message under its property, and the rest on the node", () => {
    const node = { id: "chat", type: "chat_completion" as const, position: { x: 0, y: 0 } };
    const diagnostics = [
      { severity: "error" as const, node: "chat", property: "deployment", message: "`deployment` is required" },
      { severity: "warning" as const, node: "chat", property: null, message: "never runs" },
      { severity: "error" as const, node: "other", property: "deployment", message: "not mine" },
    ];
    const deployment = fieldsFor(node, diagnostics).find((f) => f.spec.key === "deployment")!;
    expect(deployment.problems.map((p) => p.message)).toEqual(["`deployment` is required"]);
    expect(nodeProblems(node, diagnostics).map((p) => p.message)).toEqual(["never runs"]);
  });

  it("offers declared variables and fitting outputs to a variable picker", () => {
    const doc: FlowDocument = {
      schema: 1,
      nodes: [
        { id: "declare", type: "declare_variable", position: { x: 0, y: 0 }, properties: { name: "conn", value_type: "object" } },
        { id: "route", type: "condition", position: { x: 0, y: 0 }, properties: { expression: "true" } },
        { id: "chat", type: "chat_completion", position: { x: 0, y: 0 } },
      ],
    };
    const when = catalog.find((k) => k.kind === "chat_completion")!.properties.find((p) => p.key === "when")!;
    expect(referenceChoices(doc, "chat", when).map((c) => c.value)).toEqual(["${vars.conn}", "${route.output}", "${route.true}", "${route.false}"]);
    expect(asText(0.2)).toBe("0.2");
    expect(asText(undefined)).toBe("");
  });

  it("gives each connection property the types its editor takes, and no other property any", () => {
    const at = { x: 0, y: 0 };
    const accepts = (type: "chat_completion" | "content_safety_text" | "ai_search" | "http_request", key: string) =>
      fieldsFor({ id: "n", type, position: at }, []).find((f) => f.spec.key === key)!.accepts;
    expect(accepts("chat_completion", "connection")).toEqual(["azure_ai", "azure_open_ai", "open_ai", "serverless"]);
    expect(accepts("content_safety_text", "connection")).toEqual(["azure_content_safety"]);
    expect(accepts("http_request", "connection")).toEqual(["custom"]);
    expect(accepts("ai_search", "connection")).toEqual(["cognitive_search"]);
    // The model connection that embeds AI Search's query takes model connections only.
    expect(accepts("ai_search", "embeddings_connection")).toEqual(["azure_ai", "azure_open_ai", "open_ai", "serverless"]);
    expect(accepts("chat_completion", "deployment")).toBeNull();
  });

  it("lists only the saved connections of a type the property takes", () => {
    const saved = [view("azure-ai", "azure_ai"), view("safety", "azure_content_safety"), view("oai", "open_ai")];
    expect(connectionChoices(saved, ["azure_ai", "azure_open_ai", "open_ai", "serverless"]).map((c) => c.name)).toEqual(["azure-ai", "oai"]);
    expect(connectionChoices(saved, ["azure_content_safety"]).map((c) => c.name)).toEqual(["safety"]);
    expect(connectionChoices(saved, ["serp"])).toEqual([]);
    expect(connectionChoices(saved, null)).toEqual(saved);
  });

  it("says which types a node needs when its connection is of another", () => {
    const labels = new Map([
      ["azure_ai", "Azure AI Foundry"],
      ["open_ai", "OpenAI"],
      ["serverless", "Serverless endpoint"],
      ["azure_content_safety", "Azure AI Content Safety"],
      ["serp", "SerpAPI"],
    ]);
    expect(wrongTypeMessage(view("web", "serp"), ["azure_content_safety"], labels)).toBe(
      "`web` is a SerpAPI connection; this node needs an Azure AI Content Safety connection",
    );
    expect(wrongTypeMessage(view("safety", "azure_content_safety"), ["azure_ai", "open_ai", "serverless"], labels)).toBe(
      "`safety` is an Azure AI Content Safety connection; this node needs an Azure AI Foundry, OpenAI or Serverless endpoint connection",
    );
    // Before the types' labels have loaded, their names.
    expect(wrongTypeMessage(view("web", "serp"), ["custom"], new Map())).toBe("`web` is a serp connection; this node needs a custom connection");
  });
});
