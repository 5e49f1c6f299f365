import { describe, expect, it } from "vitest";

import type { RunEvent } from "../../ipc/generated/RunEvent";
import { applySummary, fromStoredRun, prepareRun, runReducer, type RunState } from "./reducer";

const NODES = ["inputs", "prompt", "chat", "outputs"];
const usage = { prompt_tokens: 12, completion_tokens: 30, total_tokens: 42 };

function run(state: RunState, events: RunEvent[]): RunState {
  return events.reduce(runReducer, state);
}

const start = (): RunState => runReducer(prepareRun(NODES, NODES), { event: "run_started", run_id: "r1" });

describe("runReducer", () => {
  it("queues the planned nodes, then marks each as it starts", () => {
    const state = run(start(), [{ event: "node_started", node: "prompt" }]);
    expect(state.runId).toBe("r1");
    expect(state.status).toBe("running");
    expect(state.nodes.prompt?.phase).toBe("running");
    expect(state.nodes.chat?.phase).toBe("queued");
  });

  it("accumulates streamed tokens on the node in order", () => {
    const state = run(start(), [
      { event: "node_started", node: "chat" },
      { event: "token", node: "chat", text: "A flow " },
      { event: "token", node: "chat", text: "designer " },
      { event: "token", node: "chat", text: "wires nodes." },
    ]);
    expect(state.nodes.chat?.phase).toBe("streaming");
    expect(state.nodes.chat?.text).toBe("A flow designer wires nodes.");
  });

  it("keeps the streamed text once the node finishes, with its latency and tokens", () => {
    const state = run(start(), [
      { event: "node_started", node: "chat" },
      { event: "token", node: "chat", text: "Hi" },
      { event: "node_finished", node: "chat", output: "Hi", latency_ms: 812.5, usage },
      { event: "token", node: "chat", text: " stale" },
    ]);
    expect(state.nodes.chat).toMatchObject({ phase: "succeeded", text: "Hi", output: "Hi", latencyMs: 812.5, usage });
    expect(state.tokens).toBe(42);
  });

  it("records retry notices on the node and in the run, dropping the failed attempt's text", () => {
    const state = run(start(), [
      { event: "node_started", node: "chat" },
      { event: "token", node: "chat", text: "partial" },
      { event: "retrying", node: "chat", message: "throttled (HTTP 429); retrying in 2 s (attempt 2 of 4)" },
    ]);
    expect(state.nodes.chat?.retries).toEqual(["throttled (HTTP 429); retrying in 2 s (attempt 2 of 4)"]);
    expect(state.nodes.chat?.text).toBe("");
    expect(state.nodes.chat?.phase).toBe("running");
    expect(state.notices).toEqual([{ node: "chat", message: "throttled (HTTP 429); retrying in 2 s (attempt 2 of 4)" }]);
  });

  it("marks failed, skipped and reused nodes with their message", () => {
    const state = run(start(), [
      { event: "node_reused", node: "prompt" },
      { event: "node_started", node: "chat" },
      { event: "node_failed", node: "chat", error: "the deployment `gpt-5` does not exist; check its name in Azure AI Foundry" },
      { event: "node_skipped", node: "outputs", reason: "`chat` failed" },
    ]);
    expect(state.nodes.prompt?.phase).toBe("reused");
    expect(state.nodes.chat).toMatchObject({ phase: "failed", error: expect.stringContaining("does not exist") });
    expect(state.nodes.outputs).toMatchObject({ phase: "skipped", reason: "`chat` failed" });
  });

  it("takes the totals from run_finished and settles nodes the run never reached", () => {
    const state = run(prepareRun(NODES, ["chat"]), [
      { event: "run_started", run_id: "r2" },
      { event: "node_reused", node: "prompt" },
      { event: "node_started", node: "chat" },
      { event: "node_finished", node: "chat", output: "ok", latency_ms: 10, usage },
      { event: "run_finished", status: "succeeded", outputs: { answer: "ok" }, latency_ms: 15.2 },
    ]);
    expect(state.status).toBe("succeeded");
    expect(state.outputs).toEqual({ answer: "ok" });
    expect(state.latencyMs).toBe(15.2);
    expect(state.tokens).toBe(42);
    expect(state.nodes.inputs?.phase).toBe("idle");
  });

  it("marks running and queued nodes cancelled when the run is cancelled", () => {
    const state = run(start(), [
      { event: "node_started", node: "chat" },
      { event: "token", node: "chat", text: "Once upon" },
      { event: "run_finished", status: "cancelled", outputs: {}, latency_ms: 300 },
    ]);
    expect(state.status).toBe("cancelled");
    expect(state.nodes.chat).toMatchObject({ phase: "cancelled", text: "Once upon" });
    expect(state.nodes.outputs?.phase).toBe("cancelled");
  });

  it("starts a second run from a clean slate", () => {
    const first = run(start(), [
      { event: "node_started", node: "chat" },
      { event: "token", node: "chat", text: "first" },
      { event: "retrying", node: "chat", message: "throttled" },
      { event: "node_failed", node: "chat", error: "boom" },
      { event: "run_finished", status: "failed", outputs: {}, latency_ms: 50 },
    ]);
    const second = runReducer(first, { event: "run_started", run_id: "r2" });
    expect(second.runId).toBe("r2");
    expect(second.status).toBe("running");
    expect(second.nodes.chat).toEqual({ phase: "queued", text: "", retries: [] });
    expect(second.notices).toEqual([]);
    expect(second.latencyMs).toBeNull();
    expect(second.tokens).toBe(0);
  });

  it("ignores events for nodes the flow does not have", () => {
    const before = start();
    const after = run(before, [
      { event: "node_started", node: "ghost" },
      { event: "token", node: "ghost", text: "boo" },
      { event: "retrying", node: "ghost", message: "x" },
      { event: "node_finished", node: "ghost", output: 1, latency_ms: 1, usage },
    ]);
    expect(after).toBe(before);
    expect(after.nodes.ghost).toBeUndefined();
  });

  it("keeps nodes an event does not touch as the same objects, so their badges do not re-render", () => {
    const before = run(start(), [{ event: "node_started", node: "chat" }]);
    const after = runReducer(before, { event: "token", node: "chat", text: "x" });
    expect(after.nodes.prompt).toBe(before.nodes.prompt);
    expect(after.nodes.chat).not.toBe(before.nodes.chat);
  });
});

describe("summaries and stored runs", () => {
  it("adds each node's inputs from the summary", () => {
    const streamed = run(start(), [
      { event: "node_started", node: "chat" },
      { event: "token", node: "chat", text: "Hello" },
      { event: "node_finished", node: "chat", output: "Hello", latency_ms: 5, usage },
    ]);
    const state = applySummary(streamed, {
      run_id: "r1",
      status: "succeeded",
      outputs: { answer: "Hello" },
      latency_ms: 9,
      nodes: { chat: { state: "succeeded", inputs: { user_prompt: "hi" }, output: "Hello", error: null, latency_ms: 5, usage } },
    });
    expect(state.nodes.chat).toMatchObject({ phase: "succeeded", inputs: { user_prompt: "hi" }, text: "Hello" });
    expect(state.status).toBe("succeeded");
  });

  it("shows a finished answer as recorded, masked with every secret the run found", () => {
    const streamed = run(start(), [
      { event: "node_started", node: "chat" },
      { event: "token", node: "chat", text: "key: sk-found-late-1234" },
      { event: "node_finished", node: "chat", output: "key: sk-found-late-1234", latency_ms: 5, usage },
    ]);
    const state = applySummary(streamed, {
      run_id: "r1",
      status: "succeeded",
      outputs: { answer: "key: ******" },
      latency_ms: 9,
      nodes: { chat: { state: "succeeded", inputs: {}, output: "key: ******", error: null, latency_ms: 5, usage } },
    });
    expect(JSON.stringify(state)).not.toContain("sk-found-late");
    expect(state.nodes.chat).toMatchObject({ text: "key: ******", output: "key: ******" });
  });

  it("reads a stored run, its skip reasons and its duration", () => {
    const state = fromStoredRun({
      id: "r9",
      status: "failed",
      outputs: { answer: null },
      started_at_ms: 1000,
      finished_at_ms: 1450,
      nodes: {
        chat: { state: "failed", inputs: {}, output: null, error: "HTTP 401: the key is wrong", latency_ms: 30, usage: null },
        outputs: { state: "skipped", inputs: null, output: null, error: "`chat` failed", latency_ms: 0, usage: null },
        junk: "not a record",
      },
    });
    expect(state.status).toBe("failed");
    expect(state.latencyMs).toBe(450);
    expect(state.nodes.chat).toMatchObject({ phase: "failed", error: "HTTP 401: the key is wrong" });
    expect(state.nodes.outputs).toMatchObject({ phase: "skipped", reason: "`chat` failed" });
    expect(state.nodes.junk).toBeUndefined();
    expect(state.profile).toBeNull();
  });

  it("keeps the profile a run used, from its summary and from history, and forgets it on the next run", () => {
    const finished = applySummary(start(), { run_id: "r1", status: "succeeded", outputs: {}, latency_ms: 9, nodes: {}, profile: "prod" });
    expect(finished.profile).toBe("prod");
    expect(runReducer(finished, { event: "run_started", run_id: "r2" }).profile).toBeNull();
    const stored = fromStoredRun({ id: "r1", status: "succeeded", outputs: {}, nodes: {}, started_at_ms: 0, finished_at_ms: 5, profile: "dev" });
    expect(stored.profile).toBe("dev");
  });

  it("keeps how a run used its cassette, from its summary and from history, and forgets it on the next run", () => {
    const use = { mode: "replay", replayed: 2, recorded: 0, live: 0 } as const;
    const finished = applySummary(start(), { run_id: "r1", status: "succeeded", outputs: {}, latency_ms: 9, nodes: {}, cassette: use });
    expect(finished.cassette).toEqual(use);
    expect(runReducer(finished, { event: "run_started", run_id: "r2" }).cassette).toBeNull();
    const stored = fromStoredRun({ id: "r1", status: "succeeded", outputs: {}, nodes: {}, started_at_ms: 0, finished_at_ms: 5, cassette: use });
    expect(stored.cassette).toEqual(use);
    // A run from before cassettes has none.
    expect(fromStoredRun({ id: "r0", status: "succeeded", outputs: {}, nodes: {}, started_at_ms: 0, finished_at_ms: 5 }).cassette).toBeNull();
  });
});
