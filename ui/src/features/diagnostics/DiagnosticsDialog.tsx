import { useModalDialog } from "../../shared/useModalDialog";
import type { Diagnostics } from "../../ipc/generated/Diagnostics";
import { useDiagnostics } from "./store";

function keychainStatus(report: Diagnostics | null, checking: boolean): { text: string; ok: boolean } {
  if (checking || !report) return { text: "Checking…", ok: false };
  const { probe } = report.keychain;
  return probe.status === "ok"
    ? { text: `ok — round-trip in ${probe.millis.toFixed(1)} ms`, ok: true }
    : { text: `failed — ${probe.message}`, ok: false };
}

/** What Weft runs on: where its data lives, the database, and whether the keychain works. */
export function DiagnosticsDialog() {
  const { visible, checking, report, error, refresh, close } = useDiagnostics();
  const dialog = useModalDialog(visible);

  const keychain = keychainStatus(report, checking);
  const db = report?.database;
  const rows: [string, string, string][] = report
    ? [
        ["Version", `Weft ${report.appVersion}`, "diag-app-version"],
        ["Data folder", report.dataDir, "diag-data-dir"],
        ["Database", report.database.path, "diag-db-path"],
        ["Schema", `v${db?.schemaVersion} of ${db?.latestSchemaVersion}`, "diag-schema-version"],
        ["Journal", `${db?.journalMode}, busy timeout ${db?.busyTimeoutMs} ms`, "diag-journal"],
        ["File access", db?.ownerOnly ? "owner only" : "readable by others", "diag-owner-only"],
        ["Created by", db?.createdWith ? `Weft ${db.createdWith}` : "unknown", "diag-created-with"],
        ["Keychain", `${report.keychain.backend}, service “${report.keychain.service}”`, "diag-keychain-backend"],
      ]
    : [];

  return (
    <dialog ref={dialog} className="diag-dialog" aria-labelledby="diag-title" data-testid="diagnostics" onClose={close}>
      <header className="dialog-head">
        <h2 id="diag-title">Diagnostics</h2>
        <button type="button" className="btn btn-small" aria-label="Close diagnostics" onClick={close}>
          ✕
        </button>
      </header>
      <div className="diag-body">
        {error && (
          <p className="banner banner-error" role="alert">
            {error.message}
          </p>
        )}
        <dl className="diag-grid">
          {rows.map(([label, value, testId]) => (
            <div key={testId} className="diag-row">
              <dt>{label}</dt>
              <dd data-testid={testId}>{value}</dd>
            </div>
          ))}
          <div className="diag-row">
            <dt>Keychain round-trip</dt>
            <dd data-testid="diag-keychain-status" className={keychain.ok ? "ok" : report && !checking ? "failed" : ""}>
              {keychain.text}
            </dd>
          </div>
        </dl>
      </div>
      <footer className="dialog-foot">
        <button type="button" className="btn" onClick={() => void refresh()} disabled={checking}>
          Run again
        </button>
        <button type="button" className="btn btn-primary" onClick={close}>
          Close
        </button>
      </footer>
    </dialog>
  );
}
