import { describe, expect, it } from "vitest";

import type { FlowDocument } from "../../ipc/generated/FlowDocument";
import { catalog } from "../editor/catalog";
import { asText, fieldsFor, nodeProblems, referenceChoices } from "./fields";

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
});
