// History's "Add to dataset…": appends a run's inputs to a data file (JSONL or CSV, made if it is
// not there), with one of its outputs as the row's `expected` value if the user wants, so a run
// that answered well becomes a case an eval checks from then on.
import { type FormEvent, useState } from "react";

import { toIpcError } from "../../ipc/errors";
import { evalDialogs, evalIpc } from "../../ipc/eval";
import type { IpcError } from "../../ipc/generated/IpcError";
import type { RunView } from "../../ipc/generated/RunView";
import { useModalDialog } from "../../shared/useModalDialog";

const NONE = "";

function outputNames(run: RunView): string[] {
  return run.outputs && typeof run.outputs === "object" && !Array.isArray(run.outputs) ? Object.keys(run.outputs) : [];
}

/** Where a flow's dataset goes by default: `chat.weft.yaml` → `chat.dataset.jsonl` beside it. */
export function datasetPathFor(flowPath: string): string {
  return `${flowPath.replace(/\.weft\.ya?ml$/, "").replace(/\.ya?ml$/, "")}.dataset.jsonl`;
}

export function AddToDataset({ run, onDone }: { run: RunView | null; onDone: () => void }) {
  const dialog = useModalDialog(run !== null);
  return (
    <dialog ref={dialog} className="diag-dialog dataset-dialog" aria-labelledby="dataset-title" data-testid="dataset-dialog" onClose={onDone}>
      {run && <Form key={run.id} run={run} onDone={onDone} />}
    </dialog>
  );
}

function Form({ run, onDone }: { run: RunView; onDone: () => void }) {
  const outputs = outputNames(run);
  const saved = !run.flow_path.startsWith("(");
  const [path, setPath] = useState(saved ? datasetPathFor(run.flow_path) : "");
  const [expected, setExpected] = useState(outputs.length === 1 ? (outputs[0] ?? NONE) : NONE);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<IpcError | null>(null);
  const [added, setAdded] = useState<string | null>(null);
  const choose = async () => {
    try {
      const picked = await evalDialogs.datasetPath(path || "dataset.jsonl");
      if (picked) setPath(picked);
    } catch (raw) {
      setError(toIpcError(raw));
    }
  };
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!path.trim()) return;
    setBusy(true);
    setError(null);
    try {
      await evalIpc.addRunToDataset(run.id, path.trim(), expected || null);
      setAdded(path.trim());
    } catch (raw) {
      setError(toIpcError(raw));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(event) => void submit(event)}>
      <header className="dialog-head">
        <h2 id="dataset-title">Add to dataset</h2>
        <button type="button" className="btn btn-small" aria-label="Close" onClick={onDone}>
          ✕
        </button>
      </header>
      <div className="diag-body">
        <label className="field">
          <span className="field-label">Data file</span>
          <span className="dataset-file">
            <input
              type="text"
              data-testid="dataset-path"
              placeholder="/path/to/questions.jsonl"
              value={path}
              onChange={(e) => {
                setPath(e.target.value);
                setAdded(null);
              }}
            />
            <button type="button" className="btn btn-small" data-testid="dataset-choose" onClick={() => void choose()}>
              Choose…
            </button>
          </span>
          <span className="field-help">A .jsonl or .csv file; it is made if it does not exist. A CSV row follows the file’s header.</span>
        </label>
        <label className="field">
          <span className="field-label">Expected value</span>
          <select data-testid="dataset-expected" value={expected} onChange={(e) => setExpected(e.target.value)}>
            <option value={NONE}>none: only the inputs</option>
            {outputs.map((o) => (
              <option key={o} value={o}>
                the output {o}, as expected
              </option>
            ))}
          </select>
        </label>
        {error && (
          <p className="banner banner-error" role="alert" data-testid="dataset-error">
            {error.message}
          </p>
        )}
        {added && (
          <p className="banner banner-ok" data-testid="dataset-added">
            Added to <code>{added}</code>
          </p>
        )}
      </div>
      <footer className="dialog-foot">
        <button type="button" className="btn" onClick={onDone}>
          {added ? "Close" : "Cancel"}
        </button>
        <button type="submit" className="btn btn-primary" data-testid="dataset-add" disabled={busy || !path.trim()}>
          Add
        </button>
      </footer>
    </form>
  );
}
