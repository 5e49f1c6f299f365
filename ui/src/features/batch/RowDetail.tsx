// One row of a batch, node by node: the same list and detail a test run shows in the Run tab.
import { useMemo, useState } from "react";

import type { BatchRowView } from "../../ipc/generated/BatchRowView";
import { formatMs, formatTokens } from "../run/format";
import { Json, NodeDetail, NodeList } from "../run/NodeRecords";
import { fromStoredRun } from "../run/reducer";
import "../run/run.css";

export function RowDetail({ row, onClose }: { row: BatchRowView; onClose: () => void }) {
  const state = useMemo(
    () =>
      fromStoredRun({
        id: `row-${row.row}`,
        status: row.status,
        outputs: row.outputs,
        nodes: row.nodes,
        started_at_ms: 0,
        finished_at_ms: row.latency_ms,
      }),
    [row],
  );
  const nodes = Object.entries(state.nodes).filter(([, n]) => n.phase !== "idle");
  const [chosen, setChosen] = useState<string | null>(null);
  // The failed node first, when nothing is chosen: that is usually why the row was opened.
  const shownId = chosen ?? nodes.find(([, n]) => n.phase === "failed")?.[0] ?? nodes[0]?.[0] ?? null;
  const shown = shownId ? state.nodes[shownId] : undefined;
  return (
    <section className="batch-row-detail" aria-label={`Row ${row.row + 1}`} data-testid="batch-row-detail">
      <header className="batch-row-head">
        <h3>
          Row {row.row + 1} <span className="muted">line {row.line}</span>{" "}
          <span className={`run-status run-status-${row.status}`} data-testid="batch-row-status">
            {row.status}
          </span>
        </h3>
        <span className="muted">
          {formatMs(row.latency_ms)} · {formatTokens(row.prompt_tokens + row.completion_tokens)}
        </span>
        <button type="button" className="btn btn-small" aria-label="Close the row" data-testid="batch-row-close" onClick={onClose}>
          ✕
        </button>
      </header>
      {row.error && (
        <p className="banner banner-error" data-testid="batch-row-error">
          {row.error}
        </p>
      )}
      <div className="batch-row-io">
        <div>
          <h4>Inputs</h4>
          <Json value={row.inputs} testId="batch-row-inputs" />
        </div>
        <div>
          <h4>Outputs</h4>
          <Json value={row.outputs} testId="batch-row-outputs" />
        </div>
      </div>
      {nodes.length > 0 ? (
        <div className="run-columns">
          <div className="run-nodes">
            <NodeList nodes={nodes} shownId={shownId} onSelect={setChosen} />
          </div>
          {shown && shownId && <NodeDetail id={shownId} node={shown} live={false} />}
        </div>
      ) : (
        <p className="muted">No node ran for this row.</p>
      )}
    </section>
  );
}
