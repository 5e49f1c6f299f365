// The Batch panel: on the left what to run (a data file, its first rows, the mapping, concurrency),
// on the right the batch running or run (progress, notices, the rows by status, one row node by node).
import { useMemo, useState } from "react";
import { useShallow } from "zustand/react/shallow";

import type { RowFilter } from "../../ipc/generated/RowFilter";
import { DataPreviewTable as Preview } from "../../shared/dataset/DataPreviewTable";
import { MappingEditor } from "../../shared/dataset/MappingEditor";
import { mappingProblems } from "../../shared/dataset/mapping";
import { useModalDialog } from "../../shared/useModalDialog";
import { selectDirty, useEditor } from "../editor/store";
import { useFiles } from "../files/store";
import { capitalised, formatMs } from "../run/format";
import { BatchGrid } from "./BatchGrid";
import { RowDetail } from "./RowDetail";
import { concurrencyOf, filterCount, shownCounts, useBatch } from "./store";
import "./batch.css";

const FILTERS: { filter: RowFilter; label: string }[] = [
  { filter: "all", label: "All" },
  { filter: "succeeded", label: "Succeeded" },
  { filter: "failed", label: "Failed" },
  { filter: "cancelled", label: "Cancelled" },
];

/** A batch runs the saved file: say so, and offer the save, when the editor's flow is not saved. */
function SaveFirst() {
  const path = useEditor((s) => s.path);
  const dirty = useEditor(selectDirty);
  const save = useFiles((s) => s.save);
  if (path && !dirty) return null;
  return (
    <p className="banner banner-warning" data-testid="batch-save-first">
      {path ? "The flow has unsaved changes; a batch runs the saved file." : "A batch runs a saved flow file; save this flow first."}{" "}
      <button type="button" className="btn btn-small" data-testid="batch-save" onClick={() => void save()}>
        Save
      </button>
    </p>
  );
}

/** The data file's path: shown once chosen, and editable, for a path pasted from elsewhere. */
function DataPathField({ path, disabled, onUse }: { path: string | null; disabled: boolean; onUse: (path: string) => void }) {
  const [draft, setDraft] = useState(path ?? "");
  const use = () => {
    if (draft.trim() && draft.trim() !== path) onUse(draft);
  };
  return (
    <input
      type="text"
      className="batch-path"
      aria-label="Data file path"
      placeholder="or paste a .jsonl or .csv path"
      title={path ?? undefined}
      data-testid="batch-data-path"
      disabled={disabled}
      value={draft}
      onChange={(e) => setDraft(e.target.value)}
      onBlur={use}
      onKeyDown={(e) => {
        if (e.key === "Enter") use();
      }}
    />
  );
}

function Setup() {
  const inputs = useEditor((s) => s.document.inputs);
  const flowReady = useEditor((s) => !!s.path && !selectDirty(s));
  const s = useBatch(
    useShallow((st) => ({
      dataPath: st.dataPath,
      preview: st.preview,
      previewLoading: st.previewLoading,
      previewError: st.previewError,
      entries: st.entries,
      concurrency: st.concurrency,
      engine: st.engine,
      name: st.name,
      phase: st.phase,
      chooseData: st.chooseData,
      readDataPath: st.readDataPath,
      setEntry: st.setEntry,
      setConcurrency: st.setConcurrency,
      setEngine: st.setEngine,
      setName: st.setName,
      start: st.start,
    })),
  );
  const flowInputs = useMemo(() => inputs ?? {}, [inputs]);
  const problems = useMemo(
    () => (s.preview ? mappingProblems(flowInputs, s.entries, s.preview.columns, s.preview.format === "csv") : {}),
    [flowInputs, s.entries, s.preview],
  );
  const remote = s.engine === "azure-batch";
  // Azure schedules the calls of an Azure batch itself: the concurrency is not asked for.
  const concurrency = remote ? ({ ok: true } as const) : concurrencyOf(s.concurrency);
  const busy = s.phase !== "idle";
  const blocker = !flowReady
    ? "Save the flow first."
    : !s.preview
      ? "Choose a data file."
      : Object.keys(problems).length
        ? "Fix the mapping first."
        : !concurrency.ok
          ? concurrency.message
          : null;
  return (
    <aside className="batch-setup" aria-label="What to run">
      <SaveFirst />
      <section className="field">
        <span className="field-label">Data file</span>
        <div className="batch-file">
          <button type="button" className="btn btn-small" data-testid="batch-choose-data" disabled={busy} onClick={() => void s.chooseData()}>
            Choose…
          </button>
          <DataPathField key={s.dataPath ?? ""} path={s.dataPath} disabled={busy} onUse={(path) => void s.readDataPath(path)} />
        </div>
        {s.previewLoading && <p className="muted">Reading…</p>}
        {s.previewError && (
          <p className="banner banner-error" role="alert" data-testid="batch-preview-error">
            {s.previewError.message}
          </p>
        )}
        {s.preview && <Preview preview={s.preview} />}
      </section>
      {s.preview && (
        <section className="field">
          <span className="field-label">Mapping</span>
          <p className="field-help">Each flow input gets its value from a column of the row, or the same value for every row.</p>
          <MappingEditor inputs={flowInputs} columns={s.preview.columns} entries={s.entries} problems={problems} disabled={busy} onChange={s.setEntry} />
        </section>
      )}
      <fieldset className="field batch-concurrency" disabled={busy}>
        <legend className="field-label">Model calls run</legend>
        <label>
          <input type="radio" name="batch-engine" data-testid="batch-engine-local" checked={!remote} onChange={() => s.setEngine("local")} /> On this
          machine
        </label>
        <label>
          <input type="radio" name="batch-engine" data-testid="batch-engine-azure" checked={remote} onChange={() => s.setEngine("azure-batch")} /> On
          the Azure OpenAI Batch API
        </label>
        {remote && (
          <p className="field-help">
            Azure answers within 24 hours, at its batch price; the rest of the flow runs here once the answers are back. The flow needs its model
            calls in one Chat completion or Embeddings node.
          </p>
        )}
      </fieldset>
      <fieldset className="field batch-concurrency" disabled={busy || remote}>
        <legend className="field-label">Concurrency</legend>
        <label>
          <input
            type="radio"
            name="batch-concurrency"
            data-testid="batch-concurrency-auto"
            checked={s.concurrency.mode === "auto"}
            onChange={() => s.setConcurrency({ mode: "auto" })}
          />{" "}
          Auto <span className="muted">(adapts to each endpoint’s rate limit)</span>
        </label>
        <label>
          <input
            type="radio"
            name="batch-concurrency"
            data-testid="batch-concurrency-fixed"
            checked={s.concurrency.mode === "fixed"}
            onChange={() => s.setConcurrency({ mode: "fixed", text: s.concurrency.mode === "fixed" ? s.concurrency.text : "8" })}
          />{" "}
          At most{" "}
          <input
            type="number"
            min={1}
            max={1024}
            className="batch-concurrency-n"
            aria-label="Rows at once"
            data-testid="batch-concurrency-n"
            disabled={s.concurrency.mode !== "fixed"}
            value={s.concurrency.mode === "fixed" ? s.concurrency.text : ""}
            onChange={(e) => s.setConcurrency({ mode: "fixed", text: e.target.value })}
          />{" "}
          rows at once
        </label>
        {!concurrency.ok && <p className="field-error">{concurrency.message}</p>}
      </fieldset>
      <label className="field">
        <span className="field-label">Name</span>
        <input type="text" placeholder="optional" data-testid="batch-name" disabled={busy} value={s.name} onChange={(e) => s.setName(e.target.value)} />
      </label>
      <div className="batch-start">
        <button type="button" className="btn btn-primary" data-testid="batch-start" disabled={busy || blocker !== null} onClick={() => void s.start()}>
          {busy ? "Running…" : "Start batch"}
        </button>
        {blocker && !busy && <span className="muted">{blocker}</span>}
      </div>
    </aside>
  );
}

function Progress() {
  const s = useBatch(
    useShallow((st) => ({
      batch: st.batch,
      progress: st.progress,
      remote: st.remote,
      summary: st.summary,
      phase: st.phase,
      cancelling: st.cancelling,
      cancel: st.cancel,
      resume: st.resume,
      exportAs: st.exportAs,
    })),
  );
  if (!s.batch) return null;
  const running = s.phase !== "idle";
  const counts = shownCounts(s);
  const done = filterCount("all", counts);
  const total = s.progress?.total ?? s.batch.total;
  const status = running ? "running" : s.batch.status;
  const resumable = !running && (status === "failed" || status === "cancelled" || status === "stopped" || status === "interrupted");
  const rate = running ? s.progress?.rows_per_s : s.summary?.rows_per_s;
  return (
    <div className="batch-progress" data-testid="batch-progress">
      <div className="batch-progress-head">
        <span className={`run-status run-status-${status}`} data-testid="batch-status">
          {running && <span className="run-spinner" aria-hidden />}
          {capitalised(status)}
        </span>
        <span data-testid="batch-done">
          {done.toLocaleString("en-US")}
          {total !== null && total !== undefined ? ` of ${total.toLocaleString("en-US")}` : ""} rows
        </span>
        <span className="muted">
          {counts.succeeded.toLocaleString("en-US")} succeeded · {counts.failed.toLocaleString("en-US")} failed
          {counts.cancelled > 0 ? ` · ${counts.cancelled.toLocaleString("en-US")} cancelled` : ""}
        </span>
        <div className="batch-actions">
          {running && (
            <button type="button" className="btn btn-small btn-danger" data-testid="batch-cancel" disabled={s.cancelling} onClick={() => void s.cancel()}>
              {s.cancelling ? "Cancelling…" : "Cancel"}
            </button>
          )}
          {resumable && (
            <button type="button" className="btn btn-small" data-testid="batch-resume" onClick={() => void s.resume()} title="Run again the rows that did not succeed">
              Resume
            </button>
          )}
          {!running && (
            <>
              <button type="button" className="btn btn-small" data-testid="batch-export-jsonl" onClick={() => void s.exportAs("jsonl")}>
                Export JSONL
              </button>
              <button type="button" className="btn btn-small" data-testid="batch-export-csv" onClick={() => void s.exportAs("csv")}>
                Export CSV
              </button>
            </>
          )}
        </div>
      </div>
      <progress
        className="batch-bar"
        aria-label="Rows done"
        data-testid="batch-bar"
        max={total ?? undefined}
        value={total ? done : undefined}
      />
      <p className="batch-stats muted" data-testid="batch-stats">
        {rate !== undefined && <span>{rate.toLocaleString("en-US", { maximumFractionDigits: rate < 10 ? 1 : 0 })} rows/s</span>}
        {running && s.progress && (
          <>
            <span data-testid="batch-concurrency-now">
              concurrency {s.progress.concurrency} ({s.progress.in_flight} in flight)
            </span>
            <span>{s.progress.throttles} throttled</span>
            {s.progress.eta_ms !== null && <span>{formatMs(s.progress.eta_ms)} left</span>}
          </>
        )}
        {!running && s.summary && (
          <>
            <span>took {formatMs(s.summary.elapsed_ms)}</span>
            <span>{s.summary.throttles} throttled</span>
            <span>{(s.summary.prompt_tokens + s.summary.completion_tokens).toLocaleString("en-US")} tokens</span>
          </>
        )}
        {s.remote && (
          <span data-testid="batch-remote">
            Azure: {s.remote.status.replace(/_/g, " ")} · {s.remote.completed.toLocaleString("en-US")} of {s.remote.total.toLocaleString("en-US")} requests
            answered{s.remote.failed > 0 ? ` · ${s.remote.failed.toLocaleString("en-US")} failed` : ""}
          </span>
        )}
        {s.batch.engine === "azure-batch" && !s.remote && <span>on the Azure OpenAI Batch API</span>}
        <span title={s.batch.data_path}>
          <code>{s.batch.data_path.split(/[\\/]/).pop()}</code>
        </span>
      </p>
    </div>
  );
}

function Notices() {
  const { notices, more, error, exported, message } = useBatch(
    useShallow((st) => ({ notices: st.notices, more: st.moreNotices, error: st.error, exported: st.exported, message: st.batch?.message ?? st.summary?.message ?? null })),
  );
  const stopped = notices.filter((n) => n.kind === "stopped");
  const others = notices.filter((n) => n.kind !== "stopped");
  return (
    <>
      {error && (
        <p className="banner banner-error" role="alert" data-testid="batch-error">
          {error.message}
        </p>
      )}
      {stopped.map((n, i) => (
        <p key={i} className="banner banner-error" role="alert" data-testid="batch-stopped">
          Stopped: {n.message}
        </p>
      ))}
      {!stopped.length && message && <p className="banner banner-warning">{message}</p>}
      {exported && (
        <p className="banner banner-ok" data-testid="batch-exported">
          Exported to <code>{exported}</code>
        </p>
      )}
      {others.length > 0 && (
        <ul className="batch-notices run-notices" aria-label="Batch notices" data-testid="batch-notices">
          {others.map((n, i) => (
            <li key={i} className={`batch-notice-${n.kind}`}>
              <strong>{n.kind === "throttled" ? "Throttled:" : "Bad row:"}</strong> {n.message}
            </li>
          ))}
          {more > 0 && <li className="muted">and {more.toLocaleString("en-US")} more: the Failed filter lists every bad row.</li>}
        </ul>
      )}
    </>
  );
}

function Results() {
  const s = useBatch(
    useShallow((st) => ({
      batch: st.batch,
      progress: st.progress,
      phase: st.phase,
      filter: st.filter,
      row: st.row,
      setFilter: st.setFilter,
      openRow: st.openRow,
      closeRow: st.closeRow,
    })),
  );
  if (!s.batch)
    return (
      <section className="batch-results">
        <Notices />
        <p className="empty-state">Choose a data file, map its columns to the flow’s inputs, and start: each row runs the flow once.</p>
      </section>
    );
  const counts = shownCounts(s);
  const running = s.phase !== "idle";
  return (
    <section className="batch-results" aria-label="Batch results">
      <Progress />
      <Notices />
      <div className="batch-filters" role="tablist" aria-label="Rows by status">
        {FILTERS.map(({ filter, label }) => (
          <button
            key={filter}
            type="button"
            role="tab"
            aria-selected={s.filter === filter}
            className="run-tab-button"
            data-testid={`batch-filter-${filter}`}
            onClick={() => s.setFilter(filter)}
          >
            {label} <span className="batch-count">{filterCount(filter, counts).toLocaleString("en-US")}</span>
          </button>
        ))}
      </div>
      <div className={s.row ? "batch-split batch-split-open" : "batch-split"}>
        <BatchGrid
          key={`${s.batch.id}/${s.filter}`}
          batchId={s.batch.id}
          filter={s.filter}
          count={filterCount(s.filter, counts)}
          live={running}
          selected={s.row?.row ?? null}
          onOpen={(row) => void s.openRow(row)}
        />
        {s.row && <RowDetail key={s.row.row} row={s.row} onClose={s.closeRow} />}
      </div>
    </section>
  );
}

export function BatchPanel() {
  const { open, close } = useBatch(useShallow((s) => ({ open: s.open, close: s.close })));
  const title = useEditor((s) => s.document.title || "Untitled flow");
  const dialog = useModalDialog(open);
  return (
    <dialog ref={dialog} className="diag-dialog batch-dialog" aria-labelledby="batch-title" data-testid="batch-panel" onClose={close}>
      <header className="dialog-head">
        <h2 id="batch-title">
          Batch run <span className="muted">{title}</span>
        </h2>
        <button type="button" className="btn btn-small" aria-label="Close the batch panel" data-testid="batch-close" onClick={close}>
          ✕
        </button>
      </header>
      {open && (
        <div className="batch-body">
          <Setup />
          <Results />
        </div>
      )}
    </dialog>
  );
}
