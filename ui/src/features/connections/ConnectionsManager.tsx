import { useMemo, useState } from "react";

import { useModalDialog } from "../../shared/useModalDialog";
import type { ConnectionKind } from "../../ipc/generated/ConnectionKind";
import { ValuesFor } from "../profiles/ConnectionValues";
import { ConnectionForm } from "./ConnectionForm";
import { KIND_BADGE, addressOf, draftFromView, emptyDraft } from "./form";
import { useConnections } from "./store";
import "./connections.css";

/** The Connections manager: a searchable list beside the selected connection's form. */
export function ConnectionsManager() {
  const { open, kinds, connections, loading, loadError, selection, newKind, target, close, select, setNewKind } = useConnections();
  const [query, setQuery] = useState("");
  const dialog = useModalDialog(open);
  // Opened by a node's picker: a new connection is one of the types that node takes.
  const newKinds = target?.accepts ? kinds.filter((spec) => target.accepts?.includes(spec.kind)) : kinds;

  const shown = useMemo(() => {
    const needle = query.trim().toLowerCase();
    return connections.filter(
      (view) =>
        !needle ||
        view.name.toLowerCase().includes(needle) ||
        view.type.includes(needle) ||
        addressOf(view).toLowerCase().includes(needle),
    );
  }, [connections, query]);

  const form = useMemo(() => {
    if (!selection) return null;
    if (selection.mode === "new") {
      const spec = kinds.find((k) => k.kind === selection.kind);
      return spec ? { spec, draft: emptyDraft(spec), key: `new-${spec.kind}` } : null;
    }
    const view = connections.find((v) => v.name === selection.name);
    const spec = view && kinds.find((k) => k.kind === view.type);
    return view && spec ? { spec, draft: draftFromView(view, spec), key: `${view.id}-${view.updatedAt}` } : null;
  }, [selection, kinds, connections]);

  return (
    <dialog
      ref={dialog}
      className="diag-dialog conn-dialog"
      aria-labelledby="conn-title"
      data-testid="connections-manager"
      onClose={close}
    >
      <header className="dialog-head">
        <h2 id="conn-title">Connections</h2>
        <button type="button" className="btn btn-small" aria-label="Close connections" onClick={close}>
          ✕
        </button>
      </header>
      <div className="conn-body">
        <aside className="conn-list" aria-label="Saved connections">
          <input
            type="search"
            aria-label="Search connections"
            data-testid="connections-search"
            placeholder="Search"
            value={query}
            onChange={(event) => setQuery(event.target.value)}
          />
          <div className="conn-new">
            <select
              aria-label="Type of the new connection"
              data-testid="new-connection-type"
              value={newKind}
              onChange={(event) => setNewKind(event.target.value as ConnectionKind)}
            >
              {newKinds.map((spec) => (
                <option key={spec.kind} value={spec.kind}>
                  {spec.label}
                </option>
              ))}
            </select>
            <button
              type="button"
              className="btn btn-primary btn-small"
              data-testid="new-connection"
              onClick={() => select({ mode: "new", kind: newKind })}
            >
              New
            </button>
          </div>
          {loading && <p className="muted">Loading…</p>}
          {loadError && (
            <p className="banner banner-error" role="alert">
              {loadError.message}
            </p>
          )}
          {!loading && connections.length === 0 && !loadError && (
            <p className="muted">No connections yet. Pick a type and press New; keys go to your OS keychain.</p>
          )}
          <ul>
            {shown.map((view) => (
              <li key={view.id}>
                <button
                  type="button"
                  className={selection?.mode === "edit" && selection.name === view.name ? "conn-item selected" : "conn-item"}
                  data-testid={`connection-item-${view.name}`}
                  onClick={() => select({ mode: "edit", name: view.name })}
                >
                  <span className={`conn-badge conn-badge-${view.type}`} aria-hidden>
                    {KIND_BADGE[view.type]}
                  </span>
                  <span className="conn-item-text">
                    <span className="conn-item-name">{view.name}</span>
                    <span className="conn-item-address">{addressOf(view) || view.type}</span>
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </aside>
        <section className="conn-detail">
          {target && (
            <p className="banner" role="status" data-testid="conn-for-node">
              A connection created here becomes {target.label}.
            </p>
          )}
          {form ? (
            <ValuesFor name={form.draft.original} spec={form.spec}>
              <ConnectionForm key={form.key} spec={form.spec} initial={form.draft} />
            </ValuesFor>
          ) : (
            <p className="muted conn-empty">Select a connection, or create one.</p>
          )}
        </section>
      </div>
    </dialog>
  );
}
