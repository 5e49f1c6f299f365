// How run numbers and states read in the badges and the run panel.
import type { NodePhase, NodeRun } from "./reducer";

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function formatTokens(count: number): string {
  return `${count.toLocaleString("en-US")} token${count === 1 ? "" : "s"}`;
}

export const PHASE_LABELS: Record<NodePhase, string> = {
  idle: "Not run",
  queued: "Queued",
  running: "Running",
  streaming: "Streaming",
  succeeded: "Done",
  failed: "Failed",
  skipped: "Skipped",
  reused: "Reused",
  cancelled: "Cancelled",
};

/** One line for a node: its state, then latency and tokens once it has them. */
export function nodeSummary(node: NodeRun): string {
  const parts = [PHASE_LABELS[node.phase]];
  if (node.phase === "succeeded" || node.phase === "failed") {
    if (node.latencyMs !== undefined) parts.push(formatMs(node.latencyMs));
    if (node.usage) parts.push(formatTokens(node.usage.total_tokens));
  }
  return parts.join(" · ");
}

/** Values as the panel shows them: text as text, everything else as indented JSON. */
export function pretty(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "";
  return JSON.stringify(value, null, 2);
}

export function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
