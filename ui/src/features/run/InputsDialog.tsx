// Asks for the flow's inputs before a run. Secret inputs are password fields and are neither
// remembered nor pre-filled; everything else opens with the values of the last run of this file.
import { useShallow } from "zustand/react/shallow";

import { useModalDialog } from "../../shared/useModalDialog";
import type { InputField } from "./inputs";
import { useRun } from "./store";

const TYPE_HINTS: Record<string, string> = {
  string: "text",
  number: "number",
  bool: "yes / no",
  object: "JSON object",
  list: "JSON list",
  any: "text or JSON",
  connection: "JSON object",
};

function Field({ field, value, error }: { field: InputField; value: string; error: string | undefined }) {
  const setDraft = useRun((s) => s.setDraft);
  const id = `run-input-${field.name}`;
  const describedBy = [field.description && `${id}-help`, error && `${id}-error`].filter(Boolean).join(" ") || undefined;
  const common = {
    id,
    "data-testid": id,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": describedBy,
  };
  let control;
  if (field.type === "bool") {
    control = (
      <input {...common} type="checkbox" checked={value === "true"} onChange={(e) => setDraft(field.name, String(e.target.checked))} />
    );
  } else if (field.type === "object" || field.type === "list" || field.type === "connection") {
    control = (
      <textarea
        {...common}
        className="run-input-json"
        rows={4}
        spellCheck={false}
        value={value}
        onChange={(e) => setDraft(field.name, e.target.value)}
      />
    );
  } else {
    control = (
      <input
        {...common}
        type={field.secret ? "password" : "text"}
        inputMode={field.type === "number" ? "decimal" : undefined}
        // Secrets stay out of the browser's autofill store too.
        autoComplete="off"
        value={value}
        onChange={(e) => setDraft(field.name, e.target.value)}
      />
    );
  }
  return (
    <div className={`run-input${field.type === "bool" ? " run-input-bool" : ""}`}>
      <label htmlFor={id}>
        <span className="run-input-name">{field.name}</span>
        <span className="muted"> · {TYPE_HINTS[field.type] ?? field.type}</span>
        {field.secret && <span className="run-input-secret"> · secret, not remembered</span>}
      </label>
      {control}
      {field.description && (
        <p className="run-input-help muted" id={`${id}-help`}>
          {field.description}
        </p>
      )}
      {error && (
        <p className="run-input-error" id={`${id}-error`} data-testid={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

export function InputsDialog() {
  const { request, submit, dismiss } = useRun(
    useShallow((s) => ({ request: s.request, submit: s.submitInputs, dismiss: s.dismissInputs })),
  );
  const ref = useModalDialog(request !== null);
  const what =
    request?.plan.mode === "only" ? `Run “${request.plan.node}”` : request?.plan.mode === "from" ? `Run from “${request.plan.node}”` : "Test run";
  return (
    <dialog
      ref={ref}
      className="diag-dialog run-inputs-dialog"
      data-testid="run-inputs"
      aria-labelledby="run-inputs-title"
      // Escape fires `cancel` at once but `close` a task later; either ends the request.
      onCancel={dismiss}
      onClose={dismiss}
    >
      {request && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <header className="dialog-head">
            <h2 id="run-inputs-title">{what}: inputs</h2>
          </header>
          <div className="run-inputs-body">
            {request.fields.map((field) => (
              <Field key={field.name} field={field} value={request.drafts[field.name] ?? ""} error={request.errors[field.name]} />
            ))}
          </div>
          <footer className="dialog-foot">
            <button type="button" className="btn" onClick={dismiss}>
              Cancel
            </button>
            <button type="submit" className="btn btn-primary" data-testid="run-inputs-submit">
              <span aria-hidden>▶</span> Run
            </button>
          </footer>
        </form>
      )}
    </dialog>
  );
}
