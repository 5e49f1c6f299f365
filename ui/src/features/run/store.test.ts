import { beforeEach, describe, expect, it, vi } from "vitest";

import type { Diagnostic } from "../../ipc/generated/Diagnostic";
import type { FlowDocument } from "../../ipc/generated/FlowDocument";
import type { RunEvent } from "../../ipc/generated/RunEvent";
import type { RunSummary } from "../../ipc/generated/RunSummary";
import type { RunOrder } from "../../ipc/runs";

const items = new Map<string, string>();
vi.stubGlobal("localStorage", {
  getItem: (k: string) => items.get(k) ?? null,
  setItem: (k: string, v: string) => void items.set(k, v),
});

const validate = vi.fn<(doc: FlowDocument) => Promise<Diagnostic[]>>();
const run = vi.fn<(order: RunOrder, onEvent: (e: RunEvent) => void) => Promise<RunSummary>>();
const secretInputs = vi.fn<(doc: FlowDocument) => Promise<string[]>>();
vi.mock("../../ipc/client", () => ({
  ipc: { validateFlow: (doc: FlowDocument) => validate(doc), secretInputs: (doc: FlowDocument) => secretInputs(doc) },
}));
vi.mock("../../ipc/runs", () => ({
  runsIpc: { run: (o: RunOrder, e: (ev: RunEvent) => void) => run(o, e), cancel: vi.fn(), list: vi.fn(), get: vi.fn() },
}));

const { useEditor } = await import("../editor/store");
const { useRun } = await import("./store");

const SECRET = "sk-store-test-1";
const doc: FlowDocument = {
  schema: 1,
  inputs: { question: { type: "string", default: "Why?" }, key: { type: "string", secret: true } },
  nodes: [
    { id: "inputs", type: "inputs", position: { x: 0, y: 0 } },
    { id: "chat", type: "chat_completion", position: { x: 300, y: 0 }, properties: { user_prompt: "${inputs.question}" } },
  ],
};

/** A run that streams two tokens and succeeds. */
function succeed(order: RunOrder, onEvent: (e: RunEvent) => void): Promise<RunSummary> {
  const events: RunEvent[] = [
    { event: "run_started", run_id: "r1" },
    { event: "node_started", node: "chat" },
    { event: "token", node: "chat", text: "Be" },
    { event: "token", node: "chat", text: "cause." },
    { event: "node_finished", node: "chat", output: "Because.", latency_ms: 20, usage: null },
    { event: "run_finished", status: "succeeded", outputs: {}, latency_ms: 25 },
  ];
  events.forEach(onEvent);
  const inputs = order.inputs as Record<string, unknown>;
  return Promise.resolve({
    run_id: "r1",
    status: "succeeded",
    outputs: {},
    latency_ms: 25,
    nodes: { chat: { state: "succeeded", inputs: { user_prompt: inputs.question as string }, output: "Because.", error: null, latency_ms: 20, usage: null } },
  });
}

beforeEach(() => {
  items.clear();
  validate.mockReset();
  secretInputs.mockReset();
  secretInputs.mockResolvedValue(["key"]);
  run.mockReset();
  useEditor.getState().load(doc, "/flows/why.weft.yaml");
  useRun.setState({ phase: "idle", request: null, error: null });
});

describe("the Test run flow", () => {
  it("stops at validation errors: they go to Problems and no inputs are asked", async () => {
    validate.mockResolvedValue([{ severity: "error", node: "chat", property: "connection", message: "unknown connection `x`" }]);
    await useRun.getState().testRun();
    expect(useRun.getState()).toMatchObject({ phase: "idle", request: null, tab: "problems", panelOpen: true });
    expect(useEditor.getState().diagnostics).toHaveLength(1);
    expect(run).not.toHaveBeenCalled();
  });

  it("asks for inputs, runs with them, streams into the node and keeps the secret out of storage", async () => {
    validate.mockResolvedValue([{ severity: "warning", node: "chat", property: null, message: "no system prompt" }]);
    run.mockImplementation(succeed);
    await useRun.getState().testRun();
    expect(useRun.getState().phase).toBe("asking");
    expect(useRun.getState().request?.drafts).toEqual({ question: "Why?", key: "" });

    useRun.getState().setDraft("key", SECRET);
    await useRun.getState().submitInputs();
    expect(run).toHaveBeenCalledTimes(1);
    expect(run.mock.calls[0]?.[0]).toMatchObject({ path: "/flows/why.weft.yaml", plan: { mode: "all" }, inputs: { question: "Why?", key: SECRET } });
    const state = useRun.getState();
    expect(state.phase).toBe("idle");
    expect(state.live.nodes.chat).toMatchObject({ phase: "succeeded", text: "Because.", inputs: { user_prompt: "Why?" } });
    expect([...items.values()].join()).not.toContain(SECRET);
    expect([...items.values()].join()).toContain("Why?");
  });

  it("masks and never stores an input Rust says carries a key, though the flow does not mark it", async () => {
    validate.mockResolvedValue([]);
    secretInputs.mockResolvedValue(["key", "question"]);
    run.mockImplementation(succeed);
    await useRun.getState().testRun();
    expect(useRun.getState().request?.fields.map((f) => [f.name, f.secret])).toEqual([
      ["question", true],
      ["key", true],
    ]);
    useRun.getState().setDraft("question", "sk-carried-by-a-plain-input");
    useRun.getState().setDraft("key", SECRET);
    await useRun.getState().submitInputs();
    expect([...items.values()].join()).not.toContain("sk-carried-by-a-plain-input");
  });

  it("Run this node reuses the last inputs without asking, with an `only` plan", async () => {
    validate.mockResolvedValue([]);
    run.mockImplementation(succeed);
    await useRun.getState().testRun();
    useRun.getState().setDraft("key", SECRET);
    await useRun.getState().submitInputs();

    await useRun.getState().runNode("chat", "only");
    expect(useRun.getState().request).toBeNull();
    expect(run.mock.calls[1]?.[0]).toMatchObject({ plan: { mode: "only", node: "chat" }, inputs: { key: SECRET } });
  });

  it("keeps the previous result on screen when a run cannot start, under the reason", async () => {
    validate.mockResolvedValue([]);
    run.mockImplementation(succeed);
    await useRun.getState().testRun();
    await useRun.getState().submitInputs();
    run.mockRejectedValue({ kind: "invalidInput", message: "a run is already in progress; wait for it or cancel it", problems: [] });

    await useRun.getState().runNode("chat", "from");
    const state = useRun.getState();
    expect(state.error?.message).toBe("a run is already in progress; wait for it or cancel it");
    expect(state.live.nodes.chat?.phase).toBe("succeeded");
    expect(state.phase).toBe("idle");
  });

  it("forgets the last run's badges when another flow is opened", async () => {
    validate.mockResolvedValue([]);
    run.mockImplementation(succeed);
    await useRun.getState().testRun();
    await useRun.getState().submitInputs();
    expect(useRun.getState().live.nodes.chat?.phase).toBe("succeeded");
    useEditor.getState().load({ ...doc }, "/flows/other.weft.yaml");
    expect(useRun.getState().live.nodes.chat).toBeUndefined();
  });
});
