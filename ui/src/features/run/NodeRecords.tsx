// A run's nodes as the run panel lists them, and one node's inputs, output and notices: shared by
// the Run tab (live or from history) and the Batch panel's row view, so a batch row reads exactly
// like a test run.
import { useShallow } from "zustand/react/shallow";

import { isRunnable } from "../editor/catalog";
import { useEditor } from "../editor/store";
import { formatTokens, nodeSummary, pretty } from "./format";
import type { NodeRun } from "./reducer";
import { useRun } from "./store";

/** A value as the panel shows it: text as text, the rest as indented JSON. */
export function Json({ value, testId }: { value: unknown; testId?: string }) {
  return (
    <pre className="run-json" data-testid={testId}>
      {pretty(value)}
    </pre>
  );
}

export function NodeDetail({ id, node, live }: { id: string; node: NodeRun; live: boolean }) {
  const { runNode, busy } = useRun(useShallow((s) => ({ runNode: s.runNode, busy: s.phase !== "idle" })));
  // Only nodes of the open flow that the engine runs (not its inputs/outputs) can be rerun.
  const exists = useEditor((s) => s.document.nodes.some((n) => n.id === id && isRunnable(n.type)));
  return (
    <div className="run-detail" data-testid="run-node-detail">
      <div className="run-detail-head">
        <h3>
          <code>{id}</code> <span className={`run-status run-status-${node.phase}`}>{nodeSummary(node)}</span>
        </h3>
        {live && exists && (
          <div className="run-detail-actions">
            <button type="button" className="btn btn-small" disabled={busy} onClick={() => void runNode(id, "only")}>
              Run this node
            </button>
            <button type="button" className="btn btn-small" disabled={busy} onClick={() => void runNode(id, "from")}>
              Run from here
            </button>
          </div>
        )}
      </div>
      {node.error && (
        <p className="banner banner-error" data-testid="run-node-error">
          {node.error}
        </p>
      )}
      {node.reason && <p className="banner banner-warning">Skipped: {node.reason}</p>}
      {node.retries.length > 0 && (
        <ul className="run-notices">
          {node.retries.map((message, i) => (
            <li key={i}>↻ {message}</li>
          ))}
        </ul>
      )}
      {node.usage && (
        <p className="muted run-usage">
          {formatTokens(node.usage.prompt_tokens)} in · {formatTokens(node.usage.completion_tokens)} out
        </p>
      )}
      <h4>Inputs</h4>
      {node.inputs === undefined || node.inputs === null ? (
        <p className="muted">{live && node.phase !== "idle" && node.inputs === undefined ? "Shown when the run ends." : "None recorded."}</p>
      ) : (
        <Json value={node.inputs} testId="run-node-inputs" />
      )}
      <h4>Output</h4>
      {node.output !== undefined && node.output !== null ? (
        <Json value={node.output} testId="run-node-output" />
      ) : node.text ? (
        <pre className="run-json" data-testid="run-node-output">
          {node.text}
        </pre>
      ) : (
        <p className="muted">None.</p>
      )}
    </div>
  );
}

/** The nodes that did something, each a button that shows its detail. */
export function NodeList({ nodes, shownId, onSelect }: { nodes: [string, NodeRun][]; shownId: string | null | undefined; onSelect: (id: string) => void }) {
  return (
    <ul className="run-node-list" aria-label="Nodes of this run">
      {nodes.map(([id, node]) => (
        <li key={id}>
          <button type="button" className="run-node-item" data-testid={`run-node-${id}`} aria-pressed={shownId === id} onClick={() => onSelect(id)}>
            <span className={`run-dot run-dot-${node.phase}`} aria-hidden />
            <code>{id}</code>
            <span className="muted">{nodeSummary(node)}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}
