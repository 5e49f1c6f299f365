// What a run looks like from its event stream. Pure, so every event order the engine can produce
// is testable without a window; the store only feeds it events, the final summary and history.
import type { CassetteUse } from "../../ipc/generated/CassetteUse";
import type { NodeRecord } from "../../ipc/generated/NodeRecord";
import type { RunEvent } from "../../ipc/generated/RunEvent";
import type { RunStatus } from "../../ipc/generated/RunStatus";
import type { RunSummary } from "../../ipc/generated/RunSummary";
import type { Usage } from "../../ipc/generated/Usage";
import type { JsonValue } from "../../ipc/generated/serde_json/JsonValue";

export type NodePhase =
  | "idle"
  | "queued"
  | "running"
  | "streaming"
  | "succeeded"
  | "failed"
  | "skipped"
  | "reused"
  | "cancelled";

export type NodeRun = {
  phase: NodePhase;
  /** Text streamed so far (chat tokens). */
  text: string;
  /** Retry and throttling notices, oldest first. */
  retries: string[];
  inputs?: JsonValue;
  output?: JsonValue;
  error?: string;
  /** Why the node was skipped. */
  reason?: string;
  latencyMs?: number;
  usage?: Usage | null;
};

export type RunNotice = { node: string; message: string };

export type RunState = {
  runId: string | null;
  status: "idle" | "running" | RunStatus;
  /** One entry per node of the flow the run belongs to; events for other ids are ignored. */
  nodes: Record<string, NodeRun>;
  /** The nodes a new run marks as queued (the whole flow, or the node a partial run starts at). */
  queue: string[];
  outputs: JsonValue | null;
  latencyMs: number | null;
  /** Tokens spent by the nodes that ran (reused nodes spent theirs in an earlier run). */
  tokens: number;
  notices: RunNotice[];
  /** The environment profile the run used, once its summary says; `null`: none. */
  profile: string | null;
  /** The run's model calls were recorded or replayed: how many of each, once its summary says. */
  cassette: CassetteUse | null;
};

const IDLE: NodeRun = { phase: "idle", text: "", retries: [] };

export function emptyRun(nodeIds: readonly string[] = []): RunState {
  return {
    runId: null,
    status: "idle",
    nodes: Object.fromEntries(nodeIds.map((id) => [id, IDLE])),
    queue: [],
    outputs: null,
    latencyMs: null,
    tokens: 0,
    notices: [],
    profile: null,
    cassette: null,
  };
}

function resetNodes(nodeIds: readonly string[], queue: readonly string[]): Record<string, NodeRun> {
  const queued = new Set(queue);
  return Object.fromEntries(nodeIds.map((id) => [id, queued.has(id) ? { ...IDLE, phase: "queued" } : IDLE]));
}

/** The state between pressing Run and the engine's first event: the queued nodes are marked. */
export function prepareRun(nodeIds: readonly string[], queue: readonly string[]): RunState {
  return { ...emptyRun(), status: "running", nodes: resetNodes(nodeIds, queue), queue: [...queue] };
}

export function isBusy(phase: NodePhase): boolean {
  return phase === "queued" || phase === "running" || phase === "streaming";
}

function updateNode(state: RunState, id: string, update: (node: NodeRun) => NodeRun | null): RunState {
  const node = state.nodes[id];
  if (!node) return state;
  const next = update(node);
  if (!next || next === node) return state;
  return { ...state, nodes: { ...state.nodes, [id]: next } };
}

export function runReducer(state: RunState, event: RunEvent): RunState {
  switch (event.event) {
    case "run_started":
      // A new run starts clean, whatever the previous one left.
      return {
        ...emptyRun(),
        runId: event.run_id,
        status: "running",
        nodes: resetNodes(Object.keys(state.nodes), state.queue),
        queue: state.queue,
      };
    case "node_started":
      return updateNode(state, event.node, () => ({ ...IDLE, phase: "running" }));
    case "token":
      return updateNode(state, event.node, (node) =>
        // A token can only belong to the node's current attempt; one after it ended is stale.
        isBusy(node.phase) ? { ...node, phase: "streaming", text: node.text + event.text } : null,
      );
    case "retrying": {
      const next = updateNode(state, event.node, (node) => ({
        ...node,
        // The service call starts over, so the text streamed by the failed attempt is void.
        text: "",
        phase: node.phase === "streaming" ? "running" : node.phase,
        retries: [...node.retries, event.message],
      }));
      return next === state ? state : { ...next, notices: [...next.notices, { node: event.node, message: event.message }] };
    }
    case "node_finished": {
      const next = updateNode(state, event.node, (node) => ({
        ...node,
        phase: "succeeded",
        output: event.output,
        latencyMs: event.latency_ms,
        usage: event.usage,
      }));
      return next === state ? state : { ...next, tokens: next.tokens + (event.usage?.total_tokens ?? 0) };
    }
    case "node_failed":
      return updateNode(state, event.node, (node) => ({ ...node, phase: "failed", error: event.error }));
    case "node_skipped":
      return updateNode(state, event.node, (node) => ({ ...node, phase: "skipped", reason: event.reason }));
    case "node_reused":
      return updateNode(state, event.node, () => ({ ...IDLE, phase: "reused" }));
    case "run_finished": {
      const cancelled = event.status === "cancelled";
      const nodes = Object.fromEntries(
        Object.entries(state.nodes).map(([id, node]) => {
          if (node.phase === "running" || node.phase === "streaming") return [id, { ...node, phase: "cancelled" }];
          // Queued nodes the run never reached: stopped by a cancel, or outside a partial run.
          if (node.phase === "queued") return [id, cancelled ? { ...node, phase: "cancelled" } : IDLE];
          return [id, node];
        }),
      ) as Record<string, NodeRun>;
      return { ...state, status: event.status, nodes, outputs: event.outputs, latencyMs: event.latency_ms };
    }
  }
}

function fromRecord(record: NodeRecord, previous: NodeRun | undefined): NodeRun {
  return {
    phase: record.state,
    // The record is masked with every secret the run came to know, the live stream only with
    // those known while it streamed: a finished answer shows as recorded.
    text: record.state === "succeeded" && typeof record.output === "string" ? record.output : (previous?.text ?? ""),
    retries: previous?.retries ?? [],
    inputs: record.inputs,
    ...(record.output !== null ? { output: record.output } : {}),
    ...(record.error !== null && record.state !== "skipped" ? { error: record.error } : {}),
    ...(record.state === "skipped" && record.error !== null ? { reason: record.error } : {}),
    latencyMs: record.latency_ms,
    usage: record.usage,
  };
}

/** Folds in the summary the command returns: it carries each node's inputs, which no event does. */
export function applySummary(state: RunState, summary: RunSummary): RunState {
  const nodes = { ...state.nodes };
  for (const [id, record] of Object.entries(summary.nodes)) {
    if (id in nodes) nodes[id] = fromRecord(record, nodes[id]);
  }
  const tokens = Object.values(summary.nodes)
    .filter((r) => r.state === "succeeded" || r.state === "failed")
    .reduce((sum, r) => sum + (r.usage?.total_tokens ?? 0), 0);
  return {
    ...state,
    runId: summary.run_id,
    status: summary.status,
    nodes,
    outputs: summary.outputs as JsonValue,
    latencyMs: summary.latency_ms,
    tokens,
    profile: summary.profile ?? null,
    cassette: summary.cassette ?? null,
  };
}

const NODE_STATES = new Set<string>(["succeeded", "failed", "skipped", "cancelled", "reused"]);

function asRecord(value: JsonValue | undefined): NodeRecord | null {
  if (!value || typeof value !== "object" || Array.isArray(value)) return null;
  if (typeof value.state !== "string" || !NODE_STATES.has(value.state)) return null;
  const usage = value.usage && typeof value.usage === "object" && !Array.isArray(value.usage) ? (value.usage as Usage) : null;
  return {
    state: value.state as NodeRecord["state"],
    inputs: value.inputs ?? null,
    output: value.output ?? null,
    error: typeof value.error === "string" ? value.error : null,
    latency_ms: typeof value.latency_ms === "number" ? value.latency_ms : 0,
    usage,
  };
}

/** A stored run as the run panel shows it. Stored JSON is read defensively: it may predate this build. */
export function fromStoredRun(run: {
  id: string;
  status: string;
  outputs: JsonValue;
  nodes: JsonValue;
  started_at_ms: number | bigint;
  finished_at_ms: number | bigint;
  profile?: string | null;
  cassette?: CassetteUse | null;
}): RunState {
  const stored = run.nodes && typeof run.nodes === "object" && !Array.isArray(run.nodes) ? run.nodes : {};
  const records: Record<string, NodeRecord> = {};
  for (const [id, value] of Object.entries(stored)) {
    const record = asRecord(value);
    if (record) records[id] = record;
  }
  const status = run.status === "succeeded" || run.status === "failed" || run.status === "cancelled" ? run.status : "failed";
  const base: RunState = { ...emptyRun(Object.keys(records)) };
  return applySummary(base, {
    run_id: run.id,
    status,
    outputs: (run.outputs && typeof run.outputs === "object" && !Array.isArray(run.outputs) ? run.outputs : {}) as Record<
      string,
      unknown
    >,
    nodes: records,
    latency_ms: Number(run.finished_at_ms) - Number(run.started_at_ms),
    profile: run.profile,
    cassette: run.cassette ?? null,
  });
}
