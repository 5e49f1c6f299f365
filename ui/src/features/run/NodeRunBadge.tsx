// A node's run state on the canvas. Each badge subscribes to its own node's entry only, so a token
// streaming into one node re-renders that badge and nothing else on the canvas.
import { memo } from "react";

import { nodeSummary } from "./format";
import { useRun } from "./store";

const PREVIEW_CHARS = 280;

export const NodeRunBadge = memo(function NodeRunBadge({ id }: { id: string }) {
  const run = useRun((s) => s.live.nodes[id]);
  if (!run || run.phase === "idle") return null;
  const retry = run.retries.at(-1);
  const busy = run.phase === "running" || run.phase === "streaming";
  // The tail is what is being written now; earlier text is in the run panel.
  const preview = run.text.length > PREVIEW_CHARS ? `…${run.text.slice(-PREVIEW_CHARS)}` : run.text;
  return (
    <div className="run-badge-box nodrag" data-testid={`run-badge-${id}`} data-phase={run.phase}>
      <span className={`run-badge run-badge-${run.phase}`} role="status" aria-label={`Run: ${nodeSummary(run)}`}>
        {busy ? <span className="run-spinner" aria-hidden /> : <span className="run-dot" aria-hidden />}
        {nodeSummary(run)}
      </span>
      {retry && busy && (
        <p className="run-node-retry" data-testid={`run-retry-${id}`} title={retry}>
          ↻ {retry}
        </p>
      )}
      {run.phase === "failed" && run.error && (
        <p className="run-node-error" data-testid={`run-error-${id}`} title={run.error}>
          {run.error}
        </p>
      )}
      {run.phase === "skipped" && run.reason && <p className="run-node-reason">{run.reason}</p>}
      {preview && (
        <p className="run-preview" data-testid={`run-preview-${id}`} aria-live="off">
          {preview}
          {run.phase === "streaming" && <span className="run-caret" aria-hidden />}
        </p>
      )}
    </div>
  );
});
