// The History tab's batches, newest first; opening one shows it in the Batch panel.
import { useEffect } from "react";
import { useShallow } from "zustand/react/shallow";

import type { BatchView } from "../../ipc/generated/BatchView";
import { capitalised } from "../run/format";
import { useBatch } from "./store";

const time = new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeStyle: "medium" });
const fileName = (path: string) => path.split(/[\\/]/).pop() ?? path;

function Row({ batch, open }: { batch: BatchView; open: (id: string) => void }) {
  const { succeeded, failed, cancelled } = batch.counts;
  const when = time.format(new Date(batch.created_at_ms));
  return (
    <tr data-testid="batch-history-item" data-batch-id={batch.id}>
      <td>{when}</td>
      <td>
        <span className={`run-status run-status-${batch.status}`}>{capitalised(batch.status)}</span>
      </td>
      <td className="run-history-path" title={`${batch.flow_path} over ${batch.data_path}`}>
        {batch.name ? <strong>{batch.name} </strong> : null}
        {fileName(batch.flow_path)} × {fileName(batch.data_path)}
      </td>
      <td className="run-num">
        {(succeeded + failed + cancelled).toLocaleString("en-US")} rows
        {failed > 0 && <span className="batch-error"> · {failed.toLocaleString("en-US")} failed</span>}
      </td>
      <td>{batch.profile ?? <span className="muted">none</span>}</td>
      <td>
        <button type="button" className="btn btn-small" onClick={() => open(batch.id)} aria-label={`Open the batch of ${when}`}>
          Open
        </button>
      </td>
    </tr>
  );
}

/** `reloads`: bumped by the History tab's Refresh, so one button reloads runs and batches. */
export function BatchHistory({ reloads }: { reloads: number }) {
  const { history, error, load, show } = useBatch(useShallow((s) => ({ history: s.history, error: s.historyError, load: s.loadHistory, show: s.show })));
  useEffect(() => {
    void load();
  }, [load, reloads]);
  if (error)
    return (
      <p className="banner banner-error" role="alert" data-testid="batch-history-error">
        {error.message}
      </p>
    );
  if (!history || history.length === 0) return null;
  return (
    <table className="run-history-table" data-testid="batch-history">
      <caption className="batch-history-caption">Batches</caption>
      <thead>
        <tr>
          <th scope="col">Started</th>
          <th scope="col">Status</th>
          <th scope="col">Flow × data</th>
          <th scope="col" className="run-num">
            Rows
          </th>
          <th scope="col">Profile</th>
          <th scope="col">
            <span className="visually-hidden">Open</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {history.map((batch) => (
          <Row key={batch.id} batch={batch} open={(id) => void show(id)} />
        ))}
      </tbody>
    </table>
  );
}
