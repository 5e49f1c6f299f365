import { useState } from "react";

import { toIpcError } from "../../ipc/errors";
import type { IpcError } from "../../ipc/generated/IpcError";
import type { KindSpec } from "../../ipc/generated/KindSpec";
import { ChoiceField } from "./ChoiceField";
import { CustomRows } from "./CustomRows";
import { type ConnectionDraft, problemsByField, shownFields } from "./form";
import { SecretField } from "./SecretField";
import { TestConnection } from "./TestConnection";
import { useConnections } from "./store";

type Props = { spec: KindSpec; initial: ConnectionDraft };

/** One connection's form, generated from its type's field spec. */
export function ConnectionForm({ spec, initial }: Props) {
  const save = useConnections((s) => s.save);
  const remove = useConnections((s) => s.remove);
  const lastSaved = useConnections((s) => s.lastSaved);
  const [draft, setDraft] = useState(initial);
  const [error, setError] = useState<IpcError | null>(null);
  const [saving, setSaving] = useState(false);
  const [confirmingDelete, setConfirmingDelete] = useState(false);
  const problems = problemsByField(error?.problems ?? []);
  const saved = !error && lastSaved && lastSaved.name === draft.original ? lastSaved : null;

  const onSubmit = async (event: React.FormEvent) => {
    event.preventDefault();
    setSaving(true);
    setError(null);
    try {
      // On success the store selects the saved connection and this form re-mounts with it.
      await save(spec, draft);
    } catch (raw) {
      setError(toIpcError(raw));
    } finally {
      setSaving(false);
    }
  };

  const onDelete = async () => {
    if (!draft.original) return;
    try {
      await remove(draft.original);
    } catch (raw) {
      setError(toIpcError(raw));
      setConfirmingDelete(false);
    }
  };

  const fieldProblems = (key: string) =>
    problems[key]?.map((message) => (
      <p className="field-problem" key={message} data-testid={`conn-problem-${key}`}>
        {message}
      </p>
    ));

  return (
    <form className="conn-form" onSubmit={onSubmit} aria-label={`${spec.label} connection`}>
      <header className="conn-form-head">
        <h3>{draft.original ?? `New ${spec.label} connection`}</h3>
        <p className="muted">{spec.description}</p>
      </header>

      <label className="field">
        <span>Name</span>
        <input
          data-testid="conn-name"
          value={draft.name}
          maxLength={64}
          required
          placeholder="e.g. azure-ai"
          onChange={(event) => setDraft({ ...draft, name: event.target.value })}
        />
        {fieldProblems("name")}
      </label>

      {shownFields(spec, draft).map((field) => (
        <div className="field" key={field.key}>
          <label htmlFor={field.input === "choice" ? undefined : `conn-${field.key}`}>
            {field.label}
            {field.required && <span aria-hidden> *</span>}
          </label>
          {field.input === "choice" ? (
            <ChoiceField
              field={field}
              value={draft.config[field.key] ?? ""}
              onChange={(value) => setDraft({ ...draft, config: { ...draft.config, [field.key]: value } })}
            />
          ) : field.input === "secret" ? (
            <SecretField
              id={field.key}
              label={field.label}
              field={draft.secrets[field.key] ?? { stored: false, replacing: true, value: "" }}
              onChange={(value) => setDraft({ ...draft, secrets: { ...draft.secrets, [field.key]: value } })}
            />
          ) : (
            <input
              id={`conn-${field.key}`}
              data-testid={`conn-field-${field.key}`}
              type={field.input === "url" ? "url" : "text"}
              spellCheck={false}
              placeholder={field.placeholder || field.default || ""}
              value={draft.config[field.key] ?? ""}
              onChange={(event) => setDraft({ ...draft, config: { ...draft.config, [field.key]: event.target.value } })}
            />
          )}
          {field.help && <p className="field-help">{withCode(field.help)}</p>}
          {fieldProblems(field.key)}
        </div>
      ))}

      {spec.kind === "custom" && (
        <CustomRows rows={draft.rows} problems={problems} onChange={(rows) => setDraft({ ...draft, rows })} />
      )}

      {error && (problems[""] || error.problems.length === 0) && (
        <p className="banner banner-error" role="alert" data-testid="conn-error">
          {error.problems.length === 0 ? error.message : problems[""]?.join(" ")}
        </p>
      )}
      {saved && (
        <p className="banner banner-ok" role="status" data-testid="conn-saved">
          Saved. Secrets are in your OS keychain.
        </p>
      )}
      {saved?.pickedFor && (
        <p className="banner banner-ok" role="status" data-testid="conn-picked">
          Chosen as {saved.pickedFor}.
        </p>
      )}
      {saved?.warnings.map((warning) => (
        <p className="banner banner-warning" role="status" data-testid="conn-warning" key={warning}>
          {warning}
        </p>
      ))}

      {draft.original && (
        <TestConnection
          name={draft.original}
          kind={spec.kind}
          pinsDeployment={pinsDeployment(spec, initial)}
        />
      )}

      <footer className="conn-form-actions">
        {draft.original &&
          (confirmingDelete ? (
            <span className="conn-confirm" role="alertdialog" aria-label="Confirm delete">
              Delete “{draft.original}” and its keychain entries? Flows that use it will need another
              connection.
              <button type="button" className="btn btn-danger" data-testid="conn-delete-confirm" onClick={onDelete}>
                Delete
              </button>
              <button type="button" className="btn" onClick={() => setConfirmingDelete(false)}>
                Cancel
              </button>
            </span>
          ) : (
            <button type="button" className="btn btn-danger-quiet" data-testid="conn-delete" onClick={() => setConfirmingDelete(true)}>
              Delete…
            </button>
          ))}
        <button type="submit" className="btn btn-primary" data-testid="conn-save" disabled={saving}>
          {saving ? "Saving…" : draft.original ? "Save changes" : "Create connection"}
        </button>
      </footer>
    </form>
  );
}

/** A saved Azure OpenAI deployment URL on the deployments API serves that one deployment; on v1
 * the node (and the test) pick the deployment. */
function pinsDeployment(spec: KindSpec, saved: ConnectionDraft): boolean {
  const api = saved.config.api?.trim() || spec.fields.find((field) => field.key === "api")?.default;
  return api?.toLowerCase() !== "v1" && /\/openai\/deployments\/[^/]+/.test(saved.config.api_base ?? "");
}

/** Help texts mark commands and values with backticks, as the CLI prints them; here they are code. */
function withCode(text: string): React.ReactNode[] {
  return text.split("`").map((part, i) => (i % 2 === 1 ? <code key={i}>{part}</code> : part));
}
