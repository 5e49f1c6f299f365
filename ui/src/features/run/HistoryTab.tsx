// The last 50 stored runs, newest first; opening one shows it in the Run tab. Batches follow,
// listed by the Batch panel's own component.
import { useState } from "react";
import { useShallow } from "zustand/react/shallow";

import type { RunView } from "../../ipc/generated/RunView";
import { BatchHistory } from "../batch/BatchHistory";
import { AddToDataset } from "./AddToDataset";
import { capitalised, formatMs } from "./format";
import { CassetteBadge } from "./RunTab";
import { useRun } from "./store";

const time = new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeStyle: "medium" });

function Row({ run, open, add, current }: { run: RunView; open: (id: string) => void; add: (run: RunView) => void; current: boolean }) {
  const started = Number(run.started_at_ms);
  return (
    <tr data-testid="history-item" data-run-id={run.id} aria-current={current || undefined}>
      <td>{time.format(new Date(started))}</td>
      <td>
        <span className={`run-status run-status-${run.status}`}>{capitalised(run.status)}</span>
        {run.cassette && (
          <>
            {" "}
            <CassetteBadge use={run.cassette} />
          </>
        )}
      </td>
      <td className="run-history-path" title={run.flow_path}>
        {run.flow_path}
      </td>
      <td className="run-num">{formatMs(Number(run.finished_at_ms) - started)}</td>
      <td data-testid="history-profile">{run.profile ?? <span className="muted">none</span>}</td>
      <td>
        <button type="button" className="btn btn-small" onClick={() => open(run.id)} aria-label={`Open the run of ${time.format(new Date(started))}`}>
          Open
        </button>{" "}
        <button
          type="button"
          className="btn btn-small"
          data-testid="history-add-to-dataset"
          onClick={() => add(run)}
          aria-label={`Add the run of ${time.format(new Date(started))} to a dataset`}
        >
          Add to dataset…
        </button>
      </td>
    </tr>
  );
}

export function HistoryTab() {
  const { history, error, loading, reload, reopen, openId } = useRun(
    useShallow((s) => ({
      history: s.history,
      error: s.historyError,
      loading: s.historyLoading,
      reload: s.loadHistory,
      reopen: s.reopen,
      openId: s.stored?.run.id,
    })),
  );
  const [reloads, setReloads] = useState(0);
  const [adding, setAdding] = useState<RunView | null>(null);
  return (
    <div className="run-history">
      <div className="run-toolbar">
        <span className="muted">{history ? `${history.length} recent run${history.length === 1 ? "" : "s"}` : ""}</span>
        <button type="button" className="btn btn-small" onClick={() => {
            void reload();
            setReloads((n) => n + 1);
          }} disabled={loading}>
          Refresh
        </button>
      </div>
      {error && (
        <p className="banner banner-error" role="alert" data-testid="history-error">
          {error.message}
        </p>
      )}
      {history && history.length === 0 && <p className="empty-state">No runs yet. Test run a flow and it appears here.</p>}
      {history && history.length > 0 && (
        <table className="run-history-table" data-testid="history-list">
          <thead>
            <tr>
              <th scope="col">Started</th>
              <th scope="col">Status</th>
              <th scope="col">Flow</th>
              <th scope="col" className="run-num">
                Took
              </th>
              <th scope="col">Profile</th>
              <th scope="col">
                <span className="visually-hidden">Open</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {history.map((run) => (
              <Row key={run.id} run={run} open={(id) => void reopen(id)} add={setAdding} current={openId === run.id} />
            ))}
          </tbody>
        </table>
      )}
      <BatchHistory reloads={reloads} />
      <AddToDataset run={adding} onDone={() => setAdding(null)} />
    </div>
  );
}
