// "Values for: <connection> / <profile>" in the Connections manager: the connection's own form, or
// what one profile changes in it (plain fields and secrets; secrets write-only, as everywhere) and
// the connection as that profile sees it.
import { type FormEvent, type ReactNode, useEffect, useState } from "react";

import { toIpcError } from "../../ipc/errors";
import type { ConnectionView } from "../../ipc/generated/ConnectionView";
import type { EffectiveConnectionView } from "../../ipc/generated/EffectiveConnectionView";
import type { FieldSpec } from "../../ipc/generated/FieldSpec";
import type { IpcError } from "../../ipc/generated/IpcError";
import type { KindSpec } from "../../ipc/generated/KindSpec";
import { profilesIpc } from "../../ipc/profiles";
import { ChoiceField } from "../connections/ChoiceField";
import { problemsByField } from "../connections/form";
import { SecretField } from "../connections/SecretField";
import { type OverrideDraft, draftFromEffective, shownOverrideFields, toOverrideInput, toggleField } from "./overrides";
import { useProfiles } from "./store";

type Props = {
  /** The saved connection's name; `null` for one not created yet, which no profile can change. */
  name: string | null;
  spec: KindSpec;
  /** The connection's own form. */
  children: ReactNode;
};

/** The "Values for" choice above a saved connection's form, once any profile exists. */
export function ValuesFor({ name, spec, children }: Props) {
  const profiles = useProfiles((s) => s.profiles);
  const load = useProfiles((s) => s.load);
  const [picked, setPicked] = useState<string | null>(null);
  useEffect(() => void load(), [load]);
  // A profile deleted meanwhile shows the connection's own values again.
  const profile = profiles.some((p) => p.name === picked) ? picked : null;
  // One shape whether or not the choice shows, so the form below keeps its draft when the
  // profiles arrive.
  return (
    <>
      {name && profiles.length > 0 && (
        <label className="values-for">
          <span className="field-label">Values for</span>
          <select data-testid="values-for" value={profile ?? ""} onChange={(event) => setPicked(event.target.value || null)}>
            <option value="">the connection (no profile)</option>
            {profiles.map((p) => (
              <option key={p.name} value={p.name}>
                profile {p.name}
                {p.active ? " (active)" : ""}
              </option>
            ))}
          </select>
        </label>
      )}
      {name && profile ? <ProfileValues key={`${name}@${profile}`} name={name} profile={profile} spec={spec} /> : children}
    </>
  );
}

type Loaded = { base: ConnectionView; effective: EffectiveConnectionView; initial: OverrideDraft };

function ProfileValues({ name, profile, spec }: { name: string; profile: string; spec: KindSpec }) {
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [draft, setDraft] = useState<OverrideDraft>({ config: {}, secrets: {} });
  const [error, setError] = useState<IpcError | null>(null);
  const [saved, setSaved] = useState<{ warnings: string[]; cleared: boolean } | null>(null);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    let current = true;
    Promise.all([profilesIpc.connection(name, null), profilesIpc.connection(name, profile)]).then(
      ([base, effective]) => {
        if (!current) return;
        const initial = draftFromEffective(effective);
        setLoaded({ base: base.connection, effective, initial });
        setDraft(initial);
      },
      (raw: unknown) => current && setError(toIpcError(raw)),
    );
    return () => {
      current = false;
    };
  }, [name, profile]);

  if (!loaded)
    return error ? (
      <p className="banner banner-error" role="alert" data-testid="pv-error">
        {error.message}
      </p>
    ) : (
      <p className="muted">Loading…</p>
    );

  const { base, effective, initial } = loaded;
  const problems = problemsByField(error?.problems ?? []);
  const settled = (view: EffectiveConnectionView, outcome: { warnings: string[]; cleared: boolean }) => {
    const next = draftFromEffective(view);
    setLoaded({ base, effective: view, initial: next });
    setDraft(next);
    setSaved(outcome);
    // The top bar's list counts the connections each profile changes.
    void useProfiles.getState().load();
  };
  const run = async (work: () => Promise<void>) => {
    setSaving(true);
    setError(null);
    setSaved(null);
    try {
      await work();
    } catch (raw) {
      setError(toIpcError(raw));
    } finally {
      setSaving(false);
    }
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const result = await profilesIpc.setOverride(name, profile, toOverrideInput(spec, base, draft));
      settled(result.connection, { warnings: result.warnings, cleared: false });
    });
  };
  const onClear = () =>
    void run(async () => {
      await profilesIpc.clearOverride(name, profile);
      settled(await profilesIpc.connection(name, profile), { warnings: [], cleared: true });
    });

  const changesAnything = effective.fromProfile.length > 0;
  return (
    <form className="conn-form profile-values" onSubmit={onSubmit} aria-label={`${name} under profile ${profile}`} data-testid="profile-values">
      <header className="conn-form-head">
        <h3>
          {name} <span className="muted">under profile {profile}</span>
        </h3>
        <p className="muted">Tick a field to give it another value under {profile}; the others come from the connection.</p>
      </header>
      {shownOverrideFields(spec, base, draft).map((field) => (
        <OverrideRow
          key={field.key}
          field={field}
          profile={profile}
          base={base}
          draft={draft}
          problems={problems[field.key]}
          onToggle={(on) => setDraft(toggleField(base, initial, draft, field, on))}
          onChange={setDraft}
        />
      ))}
      {error && (problems[""] || error.problems.length === 0) && (
        <p className="banner banner-error" role="alert" data-testid="pv-error">
          {error.problems.length === 0 ? error.message : problems[""]?.join(" ")}
        </p>
      )}
      {saved && (
        <p className="banner banner-ok" role="status" data-testid="pv-saved">
          {saved.cleared ? `${profile} now uses the connection as saved.` : `Saved for ${profile}. Its secrets are in your OS keychain.`}
        </p>
      )}
      {saved?.warnings.map((warning) => (
        <p className="banner banner-warning" role="status" key={warning}>
          {warning}
        </p>
      ))}
      <Effective view={effective} profile={profile} />
      <footer className="conn-form-actions">
        {changesAnything && (
          <button type="button" className="btn btn-danger-quiet" data-testid="pv-clear" disabled={saving} onClick={onClear}>
            Use the connection’s values under {profile}
          </button>
        )}
        <button type="submit" className="btn btn-primary" data-testid="pv-save" disabled={saving}>
          {saving ? "Saving…" : `Save for ${profile}`}
        </button>
      </footer>
    </form>
  );
}

type RowProps = {
  field: FieldSpec;
  profile: string;
  base: ConnectionView;
  draft: OverrideDraft;
  problems: string[] | undefined;
  onToggle: (on: boolean) => void;
  onChange: (draft: OverrideDraft) => void;
};

function OverrideRow({ field, profile, base, draft, problems, onToggle, onChange }: RowProps) {
  const key = field.key;
  const secret = field.input === "secret";
  const set = secret ? key in draft.secrets : key in draft.config;
  const own = secret
    ? key in base.secrets
      ? "•••••• (stored)"
      : "not set"
    : ownValue(field, base.config[key]);
  return (
    <div className="field profile-field">
      <label className="profile-field-toggle">
        <input type="checkbox" data-testid={`pv-set-${key}`} checked={set} onChange={(event) => onToggle(event.target.checked)} />
        <span className="field-label">{field.label}</span>
        {!set && (
          <span className="muted profile-field-own" data-testid={`pv-own-${key}`}>
            the connection’s: {own}
          </span>
        )}
      </label>
      {set &&
        (field.input === "choice" ? (
          <ChoiceField field={field} value={draft.config[key] ?? ""} onChange={(value) => onChange({ ...draft, config: { ...draft.config, [key]: value } })} />
        ) : secret ? (
          <SecretField
            id={key}
            label={`${field.label} under ${profile}`}
            field={draft.secrets[key] ?? { stored: false, replacing: true, value: "" }}
            onChange={(value) => onChange({ ...draft, secrets: { ...draft.secrets, [key]: value } })}
          />
        ) : (
          <input
            data-testid={`pv-field-${key}`}
            aria-label={`${field.label} under ${profile}`}
            type={field.input === "url" ? "url" : "text"}
            spellCheck={false}
            placeholder={field.placeholder || field.default || ""}
            value={draft.config[key] ?? ""}
            onChange={(event) => onChange({ ...draft, config: { ...draft.config, [key]: event.target.value } })}
          />
        ))}
      {problems?.map((message) => (
        <p className="field-problem" key={message} data-testid={`pv-problem-${key}`}>
          {message}
        </p>
      ))}
    </div>
  );
}

/** A plain field's value in the connection, a choice by its label. */
function ownValue(field: FieldSpec, value: string | undefined): string {
  const given = value || field.default;
  if (!given) return "not set";
  const label = field.choices.find((c) => c.value.toLowerCase() === given.toLowerCase())?.label ?? given;
  return value ? label : `${label} (default)`;
}

/** The connection as the profile sees it now (as saved, not the draft), secrets masked. */
function Effective({ view, profile }: { view: EffectiveConnectionView; profile: string }) {
  const fromProfile = new Set(view.fromProfile);
  const rows = [
    ...Object.entries(view.connection.config),
    ...Object.keys(view.connection.secrets).map((key): [string, string] => [key, "••••••"]),
  ];
  return (
    <section className="profile-effective" aria-label={`In effect under ${profile}`} data-testid="pv-effective">
      <h4>In effect under {profile}</h4>
      <dl>
        {rows.map(([key, value]) => (
          <div key={key} className="profile-effective-row" data-testid={`pv-effective-${key}`}>
            <dt>{key}</dt>
            <dd>
              <span className="profile-effective-value">{value}</span>{" "}
              <span className={fromProfile.has(key) ? "profile-source profile-source-own" : "profile-source"}>
                {fromProfile.has(key) ? profile : "connection"}
              </span>
            </dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
