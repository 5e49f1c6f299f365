// The run being watched or reopened: totals, flow outputs, retry notices, and each node's
// inputs and outputs on click.
import { useEffect } from "react";
import { useShallow } from "zustand/react/shallow";

import type { CassetteUse } from "../../ipc/generated/CassetteUse";
import { useEditor } from "../editor/store";
import { capitalised, formatMs, formatTokens } from "./format";
import { Json, NodeDetail, NodeList } from "./NodeRecords";
import type { RunState } from "./reducer";
import { useRun } from "./store";

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
      {state.cassette && <CassetteBadge use={state.cassette} />}
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

/** "Replayed" (or "Recorded") with the counts: what the cassette answered, recorded and let through live. */
export function CassetteBadge({ use }: { use: CassetteUse }) {
  const label = use.mode === "replay" ? "Replayed" : use.mode === "record" ? "Recorded" : "Replayed + recorded";
  return (
    <span
      className="run-replayed"
      data-testid="run-cassette"
      data-mode={use.mode}
      title={`Model calls: ${use.replayed} replayed from the cassette, ${use.recorded} recorded, ${use.live} live`}
    >
      ⏺ {label} <span className="muted">{use.replayed} replayed · {use.recorded} recorded · {use.live} live</span>
    </span>
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
            <NodeList nodes={nodes} shownId={shownId} onSelect={select} />
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
