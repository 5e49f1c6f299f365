import { describe, expect, it } from "vitest";

import type { Node as FlowNode } from "../../../ipc/generated/Node";
import { cardGeometry, cardLayout } from "./card";

const chat = (properties: FlowNode["properties"]): FlowNode => ({ id: "chat", type: "chat_completion", position: { x: 0, y: 0 }, properties });

describe("node card layout", () => {
  it("folds a Chat completion's optional, unwired ports into one row", () => {
    const layout = cardLayout(chat({ deployment: "gpt-4o-mini", system_prompt: "Be brief" }), undefined);
    expect(layout.inputs.map((p) => p.id)).toEqual(["deployment", "user_prompt", "variables"]);
    expect(layout.fold).toEqual({ hidden: 12, open: false });
    expect(layout.outputs.map((p) => p.id)).toEqual(["output", "finish_reason", "usage"]);
  });

  it("keeps a wired optional port visible; a variable or a literal is not a wire", () => {
    const layout = cardLayout(chat({ chat_history: "${inputs.history}", dynamic_connection: "${vars.conn}", temperature: 0.2 }), undefined);
    expect(layout.inputs.map((p) => p.id)).toEqual(["deployment", "user_prompt", "variables", "chat_history"]);
    expect(layout.fold?.hidden).toBe(11);
  });

  it("shows every port when opened, and the fold row counts in the card's height", () => {
    const node = chat({});
    const open = cardLayout(node, undefined, true);
    expect(open.inputs).toHaveLength(15);
    expect(open.fold).toEqual({ hidden: 12, open: true });
    const folded = cardGeometry(cardLayout(node, undefined));
    // 16 rows open (15 ports and the fold row), 4 folded: twelve 18 px rows.
    expect(cardGeometry(open).height - folded.height).toBe(12 * 18);
    expect(folded.handles.map((h) => h.id)).toEqual(["deployment", "user_prompt", "variables", "output", "finish_reason", "usage"]);
  });

  it("has no fold row when nothing is optional and unwired", () => {
    const node: FlowNode = { id: "inputs", type: "inputs", position: { x: 0, y: 0 } };
    expect(cardLayout(node, { question: { type: "string" } }).fold).toBeNull();
  });
});
