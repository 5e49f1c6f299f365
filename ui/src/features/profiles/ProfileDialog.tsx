// New profile and Delete profile, as one small modal: the name is checked by the Rust side (its
// message shows under the field), and deleting says what goes with the profile.
import { type FormEvent, useState } from "react";
import { useShallow } from "zustand/react/shallow";

import type { IpcError } from "../../ipc/generated/IpcError";
import { toIpcError } from "../../ipc/errors";
import { useModalDialog } from "../../shared/useModalDialog";
import { useProfiles } from "./store";

/** Which form the dialog shows; `null`: closed. */
export type DialogShown = { mode: "create" } | { mode: "delete"; name: string } | null;

export function ProfileDialog({ shown, onClose }: { shown: DialogShown; onClose: () => void }) {
  const dialog = useModalDialog(shown !== null);
  return (
    <dialog
      ref={dialog}
      className="diag-dialog profile-dialog"
      aria-labelledby="profile-dialog-title"
      data-testid="profile-dialog"
      onClose={onClose}
    >
      {shown?.mode === "create" && <CreateForm onDone={onClose} />}
      {shown?.mode === "delete" && <DeleteForm initial={shown.name} onDone={onClose} />}
    </dialog>
  );
}

function Head({ title, onClose }: { title: string; onClose: () => void }) {
  return (
    <header className="dialog-head">
      <h2 id="profile-dialog-title">{title}</h2>
      <button type="button" className="btn btn-small btn-quiet" aria-label="Close" onClick={onClose}>
        ✕
      </button>
    </header>
  );
}

function CreateForm({ onDone }: { onDone: () => void }) {
  const create = useProfiles((s) => s.create);
  const [name, setName] = useState("");
  const [error, setError] = useState<IpcError | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      await create(name);
      onDone();
    } catch (raw) {
      setError(toIpcError(raw));
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(event) => void submit(event)}>
      <Head title="New profile" onClose={onDone} />
      <div className="diag-body profile-dialog-body">
        <label className={error ? "field field-invalid" : "field"}>
          <span className="field-label">Name</span>
          <input
            // A fresh form each time the dialog opens, so the field takes the focus.
            autoFocus
            data-testid="profile-name"
            value={name}
            placeholder="prod"
            aria-invalid={error ? true : undefined}
            aria-describedby="profile-name-help"
            onChange={(event) => {
              setName(event.target.value);
              setError(null);
            }}
          />
          {error ? (
            <p id="profile-name-help" className="field-error" role="alert" data-testid="profile-name-error">
              {error.message}
            </p>
          ) : (
            <p id="profile-name-help" className="field-help">
              A profile (dev, prod…) can give connections other endpoints and keys; switching to it changes what Test runs reach.
            </p>
          )}
        </label>
      </div>
      <footer className="dialog-foot">
        <button type="button" className="btn" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" data-testid="profile-create" disabled={busy}>
          Create
        </button>
      </footer>
    </form>
  );
}

function DeleteForm({ initial, onDone }: { initial: string; onDone: () => void }) {
  const { profiles, remove } = useProfiles(useShallow((s) => ({ profiles: s.profiles, remove: s.remove })));
  const [picked, setName] = useState(initial);
  const [busy, setBusy] = useState(false);
  // A name no longer listed (the list was refreshed meanwhile) falls back to the first profile.
  const chosen = profiles.find((p) => p.name === picked) ?? profiles[0];
  const name = chosen?.name ?? "";
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    await remove(name);
    onDone();
  };
  return (
    <form onSubmit={(event) => void submit(event)}>
      <Head title="Delete profile" onClose={onDone} />
      <div className="diag-body profile-dialog-body">
        <label className="field">
          <span className="field-label">Profile</span>
          <select data-testid="profile-delete-name" value={name} onChange={(event) => setName(event.target.value)}>
            {profiles.map((profile) => (
              <option key={profile.name} value={profile.name}>
                {profile.name}
              </option>
            ))}
          </select>
        </label>
        <p className="banner banner-warning" data-testid="profile-delete-warning">
          Deleting <strong>{name}</strong> removes the connection values it sets
          {chosen ? ` (${chosen.overrides} connection${chosen.overrides === 1 ? "" : "s"})` : ""} and their keychain entries. The
          connections themselves stay as saved.
          {chosen?.active ? " Test runs go back to no profile." : ""}
        </p>
      </div>
      <footer className="dialog-foot">
        <button type="button" className="btn" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="btn btn-danger" data-testid="profile-delete-confirm" disabled={busy || !chosen}>
          Delete profile
        </button>
      </footer>
    </form>
  );
}
