// The Evaluate panel: on the left the eval file as a form (dataset, mapping, assertions, variants,
// thresholds, prices) with Save and Run, on the right the eval running or run: progress per variant,
// aggregates per variant with the thresholds, and the rows per variant against a baseline.
import { useMemo } from "react";
import { useShallow } from "zustand/react/shallow";

import type { EvalReport } from "../../ipc/generated/EvalReport";
import type { CassetteSwitch } from "../../ipc/generated/CassetteSwitch";
import { DataPreviewTable } from "../../shared/dataset/DataPreviewTable";
import { MappingEditor } from "../../shared/dataset/MappingEditor";
import { mappingProblems } from "../../shared/dataset/mapping";
import { useModalDialog } from "../../shared/useModalDialog";
import { useConnections } from "../connections/store";
import { selectDirty, useEditor } from "../editor/store";
import { capitalised, formatMs } from "../run/format";
import { AssertionEditor } from "./AssertionEditor";
import { EvalGrid } from "./EvalGrid";
import { deploymentNames, metricNames } from "./form";
import { PricesEditor } from "./PricesEditor";
import { fileName } from "./paths";
import { evalFlowPath, unsavedFlow, useEval } from "./store";
import { ThresholdsEditor } from "./ThresholdsEditor";
import { VariantEditor } from "./VariantEditor";
import "../batch/batch.css";
import "./eval.css";

const time = new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeStyle: "medium" });

export const CASSETTE_LABELS: Record<CassetteSwitch, string> = { off: "Live", record: "Record", replay: "Replay", fill: "Record missing" };

function FileBar() {
  const s = useEval(useShallow((st) => ({ path: st.path, edited: st.edited, saved: st.saved, busy: st.phase !== "idle", form: st.form, openFile: st.openFile, create: st.create, save: st.save })));
  const flowSaved = useEditor((e) => !!e.path);
  return (
    <div className="eval-filebar">
      <button type="button" className="btn btn-small" data-testid="eval-open" disabled={s.busy} onClick={() => void s.openFile()}>
        Open…
      </button>
      <button
        type="button"
        className="btn btn-small"
        data-testid="eval-new"
        disabled={s.busy || !flowSaved}
        title={flowSaved ? "A new eval of the flow open in the editor" : "Save the flow first: an eval names its file"}
        onClick={s.create}
      >
        New
      </button>
      <span className="eval-path" data-testid="eval-path" title={s.path ?? undefined}>
        {s.path ? fileName(s.path) : s.form ? "New eval (not saved)" : ""}
        {s.edited && s.form && <span className="dirty-marker" aria-label="unsaved changes"> •</span>}
      </span>
      {s.form && (
        <button type="button" className="btn btn-small" data-testid="eval-save" disabled={s.busy} onClick={() => void s.save()}>
          Save
        </button>
      )}
      {s.saved && (
        <span className="muted" data-testid="eval-saved">
          Saved
        </span>
      )}
    </div>
  );
}

function Setup() {
  const flowInputs = useEditor((e) => e.document.inputs);
  const flowOutputs = useEditor((e) => e.document.outputs);
  const flowNodes = useEditor((e) => e.document.nodes);
  const connections = useConnections((c) => c.connections);
  const s = useEval(
    useShallow((st) => ({
      form: st.form,
      errors: st.errors,
      preview: st.preview,
      previewError: st.previewError,
      busy: st.phase !== "idle",
      edit: st.edit,
      setAssertion: st.setAssertion,
      addAssertion: st.addAssertion,
      removeAssertion: st.removeAssertion,
      setVariant: st.setVariant,
      addVariant: st.addVariant,
      removeVariant: st.removeVariant,
      chooseData: st.chooseData,
    })),
  );
  const inputs = useMemo(() => flowInputs ?? {}, [flowInputs]);
  const outputs = useMemo(() => Object.keys(flowOutputs ?? {}), [flowOutputs]);
  const nodes = useMemo(() => flowNodes.map((n) => ({ id: n.id, type: n.type })), [flowNodes]);
  const names = useMemo(() => (connections ?? []).map((c) => c.name), [connections]);
  const metrics = useMemo(() => metricNames(s.form?.assertions ?? []), [s.form?.assertions]);
  const deployments = useMemo(() => (s.form ? deploymentNames(flowNodes, s.form) : []), [flowNodes, s.form]);
  const problems = useMemo(
    () => (s.form && s.preview ? mappingProblems(inputs, s.form.entries, s.preview.columns, s.preview.format === "csv") : {}),
    [inputs, s.form, s.preview],
  );
  if (!s.form)
    return (
      <aside className="batch-setup eval-setup" aria-label="The eval">
        <FileBar />
        <p className="empty-state">Open an eval file (<code>*.eval.yaml</code>), or make a new one for the flow open in the editor.</p>
      </aside>
    );
  const form = s.form;
  const error = (key: string) =>
    s.errors[key] ? (
      <p className="field-error" data-testid={`eval-error-${key}`}>
        {s.errors[key]}
      </p>
    ) : null;
  return (
    <aside className="batch-setup eval-setup" aria-label="The eval">
      <FileBar />
      <OtherFlow />
      <label className="field">
        <span className="field-label">Name</span>
        <input type="text" data-testid="eval-name" disabled={s.busy} value={form.name} onChange={(e) => s.edit((f) => ({ ...f, name: e.target.value }))} />
      </label>
      <section className="field">
        <span className="field-label">Dataset</span>
        <div className="batch-file">
          <button type="button" className="btn btn-small" data-testid="eval-choose-data" disabled={s.busy} onClick={() => void s.chooseData()}>
            Choose…
          </button>
          <code className="eval-data" data-testid="eval-data" title={form.data}>
            {form.data || <span className="muted">no file yet</span>}
          </code>
        </div>
        {error("data")}
        {s.previewError && (
          <p className="banner banner-error" role="alert" data-testid="eval-preview-error">
            {s.previewError.message}
          </p>
        )}
        {s.preview && <DataPreviewTable preview={s.preview} testId="eval-preview" />}
      </section>
      {s.preview && (
        <section className="field">
          <span className="field-label">Column mapping</span>
          <MappingEditor
            inputs={inputs}
            columns={s.preview.columns}
            entries={form.entries}
            problems={problems}
            disabled={s.busy}
            testId="eval"
            onChange={(input, entry) => s.edit((f) => ({ ...f, entries: { ...f.entries, [input]: entry } }))}
          />
        </section>
      )}
      <section className="field">
        <span className="field-label">Assertions</span>
        <p className="field-help">Every row is checked by each; a row passes when all its assertions pass. Values may read a column: <code>{"${data.expected}"}</code>.</p>
        {error("assert")}
        <ol className="eval-list" data-testid="eval-assertions">
          {form.assertions.map((a, i) => (
            <AssertionEditor
              key={i}
              index={i}
              draft={a}
              outputs={outputs}
              connections={names}
              errors={s.errors}
              disabled={s.busy}
              onChange={(d) => s.setAssertion(i, d)}
              onRemove={() => s.removeAssertion(i)}
            />
          ))}
        </ol>
        <button type="button" className="btn btn-small" data-testid="eval-add-assertion" disabled={s.busy} onClick={s.addAssertion}>
          + Assertion
        </button>
      </section>
      <section className="field">
        <span className="field-label">Variants</span>
        <p className="field-help">The dataset runs once per variant, results side by side. None: the flow as it is.</p>
        <ol className="eval-list" data-testid="eval-variants">
          {form.variants.map((v, i) => (
            <VariantEditor
              key={i}
              index={i}
              draft={v}
              nodes={nodes}
              errors={s.errors}
              disabled={s.busy}
              onChange={(d) => s.setVariant(i, d)}
              onRemove={() => s.removeVariant(i)}
            />
          ))}
        </ol>
        <button type="button" className="btn btn-small" data-testid="eval-add-variant" disabled={s.busy} onClick={s.addVariant}>
          + Variant
        </button>
      </section>
      <ThresholdsEditor form={form} metrics={metrics} errors={s.errors} disabled={s.busy} onChange={(change) => s.edit((f) => ({ ...f, ...change }))} />
      <PricesEditor prices={form.prices} deployments={deployments} errors={s.errors} disabled={s.busy} onChange={(prices) => s.edit((f) => ({ ...f, prices }))} />
      <RunControls />
    </aside>
  );
}

/** An eval of another flow than the one open: its variants and mapping list the open flow's
 * nodes and inputs, which may not be the eval's. */
function OtherFlow() {
  const editorPath = useEditor((e) => e.path);
  const flow = useEval((s) => evalFlowPath(s, editorPath));
  if (!flow || flow === editorPath) return null;
  return (
    <p className="banner banner-warning" data-testid="eval-other-flow">
      This eval runs <code>{fileName(flow)}</code>, not the flow open in the editor; open it there to choose its nodes and inputs here.
    </p>
  );
}

function RunControls() {
  const editor = useEditor(useShallow((e) => ({ path: e.path, dirty: selectDirty(e) })));
  const blocker = useEval((st) => unsavedFlow(st, editor));
  const flowReady = blocker === null;
  const s = useEval(
    useShallow((st) => ({
      busy: st.phase !== "idle",
      cancelling: st.cancelling,
      cassette: st.cassette,
      errors: Object.keys(st.errors).length,
      run: st.run,
      cancel: st.cancel,
      setCassette: st.setCassette,
    })),
  );
  return (
    <div className="batch-start eval-run">
      <label className="eval-cassette">
        <span className="field-label">Model calls</span>
        <select
          data-testid="eval-cassette"
          disabled={s.busy}
          value={s.cassette}
          title="Record the model calls beside the eval file, or replay them from there: free, offline and the same every time"
          onChange={(e) => s.setCassette(e.target.value as CassetteSwitch)}
        >
          {Object.entries(CASSETTE_LABELS).map(([mode, label]) => (
            <option key={mode} value={mode}>
              {label}
            </option>
          ))}
        </select>
      </label>
      {s.busy ? (
        <button type="button" className="btn btn-danger" data-testid="eval-cancel" disabled={s.cancelling} onClick={() => void s.cancel()}>
          {s.cancelling ? "Cancelling…" : "Cancel"}
        </button>
      ) : (
        <button type="button" className="btn btn-primary" data-testid="eval-run" disabled={!flowReady} onClick={() => void s.run()}>
          Save and run
        </button>
      )}
      {blocker && !s.busy && <span className="muted">{blocker}</span>}
      {s.errors > 0 && !s.busy && <span className="field-error">Fix the fields marked above.</span>}
    </div>
  );
}

function Progress() {
  const progress = useEval((s) => s.progress);
  const running = useEval((s) => s.phase === "running");
  if (!running) return null;
  if (!progress.variants.length)
    return (
      <p className="muted" data-testid="eval-starting">
        <span className="run-spinner" aria-hidden /> Starting…
      </p>
    );
  return (
    <ul className="eval-progress" data-testid="eval-progress">
      {progress.variants.map((v) => {
        const p = progress.byVariant[v];
        if (!p) return null;
        const label = p.phase === "waiting" ? "waiting" : p.phase === "running" ? "running rows" : p.phase === "checking" ? "checking" : "done";
        return (
          <li key={v} data-testid="eval-progress-variant" data-variant={v} data-phase={p.phase}>
            <strong>{v}</strong> <span className="muted">{label}</span>
            <progress max={p.total ?? undefined} value={p.total ? p.done : undefined} aria-label={`${v}: rows done`} />
            <span className="batch-num">
              {p.done.toLocaleString("en-US")}
              {p.total !== null ? ` / ${p.total.toLocaleString("en-US")}` : ""}
            </span>
          </li>
        );
      })}
    </ul>
  );
}

const percent = (share: number) => `${(share * 100).toLocaleString("en-US", { maximumFractionDigits: 1 })}%`;
const money = (cost: number | null) => (cost === null ? "–" : cost.toLocaleString("en-US", { maximumSignificantDigits: 3 }));

function Aggregates({ report }: { report: EvalReport }) {
  const regressions = report.changes.filter((c) => c.was_pass && !c.now_pass).length;
  const fixes = report.changes.filter((c) => !c.was_pass && c.now_pass).length;
  return (
    <div className="eval-aggregates">
      <p className="eval-verdict" data-testid="eval-verdict">
        {report.status === "finished" ? (
          <span className={`run-status run-status-${report.passed ? "succeeded" : "failed"}`} data-testid="eval-status">
            {report.passed ? "Passed" : "Failed"}
          </span>
        ) : (
          <span className={`run-status run-status-${report.status}`} data-testid="eval-status">
            {capitalised(report.status)}
          </span>
        )}
        {report.name && <strong>{report.name}</strong>}
        <span className="muted">{time.format(new Date(report.started_at_ms))}</span>
        <span className="muted">took {formatMs(report.finished_at_ms - report.started_at_ms)}</span>
        {report.cassette && (
          <span className="run-replayed" data-testid="eval-cassette-use">
            {capitalised(report.cassette.mode === "fill" ? "record missing" : report.cassette.mode)}: {report.cassette.replayed} replayed · {report.cassette.recorded} recorded ·{" "}
            {report.cassette.live} live
          </span>
        )}
        {report.baseline && (
          <span data-testid="eval-changes">
            against {report.baseline.slice(0, 8)}: {regressions} regressed · {fixes} fixed
          </span>
        )}
      </p>
      {report.message && (
        <p className="banner banner-error" data-testid="eval-message">
          {report.message}
        </p>
      )}
      <table className="eval-summary" data-testid="eval-summary">
        <thead>
          <tr>
            <th scope="col">Variant</th>
            <th scope="col">Pass rate</th>
            <th scope="col">Passed</th>
            <th scope="col">Mean latency</th>
            <th scope="col">p95 latency</th>
            <th scope="col">Tokens</th>
            <th scope="col">Cost</th>
            <th scope="col">Thresholds</th>
          </tr>
        </thead>
        <tbody>
          {report.variants.map((v) => {
            const checks = report.thresholds.filter((t) => t.variant === v.variant);
            return (
              <tr key={v.variant} data-testid="eval-summary-row" data-variant={v.variant}>
                <th scope="row">{v.variant}</th>
                <td data-testid="eval-pass-rate-cell">{percent(v.pass_rate)}</td>
                <td>
                  {v.passed.toLocaleString("en-US")} / {v.rows.toLocaleString("en-US")}
                </td>
                <td>{formatMs(v.mean_latency_ms)}</td>
                <td>{formatMs(v.p95_latency_ms)}</td>
                <td>{(v.prompt_tokens + v.completion_tokens).toLocaleString("en-US")}</td>
                <td>{money(v.cost)}</td>
                <td>
                  {checks.map((t) => (
                    <span key={t.what} className={t.holds ? "eval-holds" : "eval-misses"} title={`${t.what}: wanted ${t.wanted}, got ${t.got}`}>
                      {t.holds ? "✓" : "✗"} {t.what}{" "}
                    </span>
                  ))}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function Baseline({ report }: { report: EvalReport }) {
  const { history, baseline, setBaseline, show } = useEval(useShallow((s) => ({ history: s.history, baseline: s.baseline, setBaseline: s.setBaseline, show: s.show })));
  const others = (history ?? []).filter((h) => h.id !== report.eval_id);
  return (
    <div className="eval-baseline">
      <label>
        <span className="field-label">Compare with</span>{" "}
        <select data-testid="eval-baseline" value={baseline ?? ""} onChange={(e) => setBaseline(e.target.value || null)}>
          <option value="">no baseline</option>
          {others.map((h) => (
            <option key={h.id} value={h.id}>
              {time.format(new Date(h.started_at_ms))} · {h.name || fileName(h.eval_path)} · {h.id.slice(0, 8)}
            </option>
          ))}
        </select>
      </label>
      {others.length > 0 && (
        <label>
          <span className="field-label">Show</span>{" "}
          <select data-testid="eval-history" value={report.eval_id} onChange={(e) => void show(e.target.value)}>
            {(history ?? []).map((h) => (
              <option key={h.id} value={h.id}>
                {time.format(new Date(h.started_at_ms))} · {h.name || fileName(h.eval_path)} · {h.id.slice(0, 8)}
              </option>
            ))}
          </select>
        </label>
      )}
    </div>
  );
}

function Results() {
  const { report, error, baseline } = useEval(useShallow((s) => ({ report: s.report, error: s.error, baseline: s.baseline })));
  const variants = useMemo(() => report?.variants.map((v) => v.variant) ?? [], [report]);
  const count = report ? Math.max(0, ...report.variants.map((v) => v.rows)) : 0;
  return (
    <section className="batch-results eval-results" aria-label="Eval results">
      {error && (
        <p className="banner banner-error" role="alert" data-testid="eval-run-error">
          {error.message}
        </p>
      )}
      <Progress />
      {report ? (
        <>
          <Aggregates report={report} />
          <Baseline report={report} />
          <EvalGrid key={`${report.eval_id}/${baseline ?? ""}`} evalId={report.eval_id} baselineId={baseline} variants={variants} count={count} />
        </>
      ) : (
        <p className="empty-state">Run the eval: each variant runs the flow over every row, then each row is checked by the assertions.</p>
      )}
    </section>
  );
}

export function EvalPanel() {
  const { open, close } = useEval(useShallow((s) => ({ open: s.open, close: s.close })));
  const title = useEditor((s) => s.document.title || "Untitled flow");
  const dialog = useModalDialog(open);
  return (
    <dialog ref={dialog} className="diag-dialog batch-dialog" aria-labelledby="eval-title" data-testid="eval-panel" onClose={close}>
      <header className="dialog-head">
        <h2 id="eval-title">
          Evaluate <span className="muted">{title}</span>
        </h2>
        <button type="button" className="btn btn-small" aria-label="Close the Evaluate panel" data-testid="eval-close" onClick={close}>
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
