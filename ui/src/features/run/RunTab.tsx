// The run being watched or reopened: totals, flow outputs, retry notices, and each node's
// inputs and outputs on click.
import { useEffect } from "react";
import { useShallow } from "zustand/react/shallow";

import { isRunnable } from "../editor/catalog";
import { useEditor } from "../editor/store";
import { capitalised, formatMs, formatTokens, nodeSummary, pretty } from "./format";
import type { NodeRun, RunState } from "./reducer";
import { useRun } from "./store";

function Json({ value, testId }: { value: unknown; testId?: string }) {
  return (
    <pre className="run-json" data-testid={testId}>
      {pretty(value)}
    </pre>
  );
}

function NodeDetail({ id, node, live }: { id: string; node: NodeRun; live: boolean }) {
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

function Totals({ state, running, cancelling, onCancel }: { state: RunState; running: boolean; cancelling: boolean; onCancel: () => void }) {
  const label = running ? "Running" : state.status === "idle" ? "Not run yet" : capitalised(state.status);
  return (
    <div className="run-toolbar" data-testid="run-totals">
      <span className={`run-status run-status-${running ? "running" : state.status}`} data-testid="run-status">
        {running && <span className="run-spinner" aria-hidden />}
        {label}
      </span>
      {state.latencyMs !== null && <span>{formatMs(state.latencyMs)}</span>}
      {(state.tokens > 0 || state.latencyMs !== null) && <span>{formatTokens(state.tokens)}</span>}
      {state.profile && (
        <span className="run-profile" data-testid="run-profile" title="The environment profile this run used">
          Profile {state.profile}
        </span>
      )}
      {running && (
        <button type="button" className="btn btn-small btn-danger run-cancel" data-testid="run-cancel" disabled={cancelling} onClick={onCancel}>
          {cancelling ? "Cancelling…" : "Cancel"}
        </button>
      )}
    </div>
  );
}

/** The one node selected on the canvas, if exactly one is. */
function useCanvasSelection(): string | null {
  return useEditor((s) => {
    let found: string | null = null;
    for (const n of s.nodes) {
      if (!n.selected) continue;
      if (found) return null;
      found = n.id;
    }
    return found;
  });
}

export function RunTab() {
  const { live, stored, phase, cancelling, error, selected, select, cancel, showLive } = useRun(
    useShallow((s) => ({
      live: s.live,
      stored: s.stored,
      phase: s.phase,
      cancelling: s.cancelling,
      error: s.error,
      selected: s.selectedNode,
      select: s.selectNode,
      cancel: s.cancel,
      showLive: s.showLive,
    })),
  );
  const canvasSelected = useCanvasSelection();
  // Selecting a node on the canvas shows its result here too.
  useEffect(() => {
    if (canvasSelected) select(canvasSelected);
  }, [canvasSelected, select]);
  const state = stored?.state ?? live;
  const running = !stored && phase === "running";
  const nodes = Object.entries(state.nodes).filter(([, n]) => n.phase !== "idle");
  const detail = selected ? state.nodes[selected] : undefined;
  // While nothing is chosen, follow the node that is writing, so streamed text is in view.
  const streaming = running ? nodes.find(([, n]) => n.phase === "streaming" || n.phase === "running") : undefined;
  const shownId = detail ? selected : streaming?.[0];
  const shown = detail ?? streaming?.[1];
  const outputs = state.outputs && typeof state.outputs === "object" && !Array.isArray(state.outputs) ? Object.entries(state.outputs) : [];

  return (
    <div className="run-tab">
      {stored && (
        <p className="banner banner-ok run-stored" data-testid="run-stored">
          Run from history: {new Date(Number(stored.run.started_at_ms)).toLocaleString()} · <code>{stored.run.flow_path}</code>
          <button type="button" className="btn btn-small btn-quiet" onClick={showLive}>
            Back to the current run
          </button>
        </p>
      )}
      {error && (
        <p className="banner banner-error" role="alert" data-testid="run-error">
          {error.message}
        </p>
      )}
      <Totals state={state} running={running} cancelling={cancelling} onCancel={() => void cancel()} />
      {nodes.length === 0 && !error && <p className="empty-state">Press Test run to run the flow; each node’s result shows here.</p>}
      {nodes.length > 0 && (
        <div className="run-columns">
          <div className="run-nodes">
            {outputs.length > 0 && (
              <section className="run-outputs" data-testid="run-outputs" aria-label="Flow outputs">
                <h4>Flow outputs</h4>
                <dl>
                  {outputs.map(([name, value]) => (
                    <div key={name} className="run-output">
                      <dt>{name}</dt>
                      <dd>
                        <Json value={value} testId={`run-output-${name}`} />
                      </dd>
                    </div>
                  ))}
                </dl>
              </section>
            )}
            <ul className="run-node-list" aria-label="Nodes of this run">
              {nodes.map(([id, node]) => (
                <li key={id}>
                  <button
                    type="button"
                    className="run-node-item"
                    data-testid={`run-node-${id}`}
                    aria-pressed={shownId === id}
                    onClick={() => select(id)}
                  >
                    <span className={`run-dot run-dot-${node.phase}`} aria-hidden />
                    <code>{id}</code>
                    <span className="muted">{nodeSummary(node)}</span>
                  </button>
                </li>
              ))}
            </ul>
            {state.notices.length > 0 && (
              <ul className="run-notices" data-testid="run-notices" aria-label="Retry notices">
                {state.notices.map((n, i) => (
                  <li key={i}>
                    ↻ <code>{n.node}</code> {n.message}
                  </li>
                ))}
              </ul>
            )}
          </div>
          {shown && shownId ? (
            <NodeDetail id={shownId} node={shown} live={!stored} />
          ) : (
            <p className="empty-state run-detail">Choose a node to see its inputs and output.</p>
          )}
        </div>
      )}
    </div>
  );
}
