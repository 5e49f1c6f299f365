import { describe, expect, it } from "vitest";

import { catalog, flowPortList, idStem, isFlowPort, isRunnable, kindIcon } from "./catalog";

describe("node catalog", () => {
  it("reads each kind's glyph, id stem and role from the Rust spec", () => {
    expect(kindIcon("chat_completion")).toBe("✦");
    expect(idStem("create_azure_ai_connection")).toBe("connect");
    expect(kindIcon("no_such_kind")).toBe("•");
    expect(idStem("no_such_kind")).toBe("no_such_kind");
    expect(catalog.filter((spec) => isFlowPort(spec.kind)).map((spec) => spec.kind)).toEqual(["inputs", "outputs"]);
    expect(catalog.every((spec) => isFlowPort(spec.kind) !== isRunnable(spec.kind))).toBe(true);
  });

  it("tells which of the flow's lists a flow port's handles are, and none for other kinds", () => {
    expect(flowPortList("inputs")).toBe("inputs");
    expect(flowPortList("outputs")).toBe("outputs");
    expect(flowPortList("prompt_template")).toBeUndefined();
    expect(flowPortList("note")).toBeUndefined();
  });
});
