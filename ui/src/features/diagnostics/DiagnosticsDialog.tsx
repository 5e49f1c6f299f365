import { useModalDialog } from "../../shared/useModalDialog";
import type { Diagnostics } from "../../ipc/generated/Diagnostics";
import type { EntraReport } from "../../ipc/generated/EntraReport";
import { expiryText, signInLine } from "./entra";
import { useDiagnostics } from "./store";
import "./diagnostics.css";

type Row = { label: string; testId: string; value: (report: Diagnostics) => string };

const ROWS: Row[] = [
  { label: "Version", testId: "diag-app-version", value: (r) => `Weft ${r.appVersion}` },
  { label: "Data folder", testId: "diag-data-dir", value: (r) => r.dataDir },
  { label: "Database", testId: "diag-db-path", value: (r) => r.database.path },
  {
    label: "Schema",
    testId: "diag-schema-version",
    value: (r) => `v${r.database.schemaVersion} of ${r.database.latestSchemaVersion}`,
  },
  { label: "Journal mode", testId: "diag-journal", value: (r) => r.database.journalMode },
  { label: "Busy timeout", testId: "diag-busy-timeout", value: (r) => `${r.database.busyTimeoutMs} ms` },
  {
    label: "Owner only",
    testId: "diag-owner-only",
    value: (r) => (r.database.ownerOnly ? "yes" : "no — other users can read the database"),
  },
  {
    label: "Created with",
    testId: "diag-created-with",
    value: (r) => (r.database.createdWith ? `Weft ${r.database.createdWith}` : "unknown"),
  },
  { label: "Keychain", testId: "diag-keychain-backend", value: (r) => r.keychain.backend },
  { label: "Keychain service", testId: "diag-keychain-service", value: (r) => r.keychain.service },
];

/** The E2E tests read this line: it starts with "ok" or "failed". */
function probeLine(report: Diagnostics): { text: string; ok: boolean } {
  const { probe } = report.keychain;
  return probe.status === "ok"
    ? { text: `ok — round-trip in ${probe.millis.toFixed(1)} ms`, ok: true }
    : { text: `failed — ${probe.message}`, ok: false };
}

/** What Weft runs on: where its data lives, the database, and whether the keychain works. */
export function DiagnosticsDialog() {
  const { visible, checking, report, checkedAtMs, error, refresh, close } = useDiagnostics();
  const dialog = useModalDialog(visible);
  const probe = report && !checking ? probeLine(report) : null;

  return (
    <dialog ref={dialog} className="diag-dialog" aria-labelledby="diag-title" data-testid="diagnostics" onClose={close}>
      <header className="dialog-head">
        <h2 id="diag-title">Diagnostics</h2>
        <button type="button" className="btn btn-small btn-quiet" aria-label="Close diagnostics" onClick={close}>
          ✕
        </button>
      </header>
      <div className="diag-body" aria-busy={checking}>
        {error ? (
          <p className="banner banner-error" role="alert" data-testid="diag-error">
            {error.message}
          </p>
        ) : (
          // Every row is there from the first frame, so the dialog keeps its size when the report lands.
          <dl className="diag-grid">
            {ROWS.map(({ label, testId, value }) => (
              <div key={testId} className="diag-row">
                <dt>{label}</dt>
                <dd data-testid={testId}>{report ? value(report) : "…"}</dd>
              </div>
            ))}
            <div className="diag-row">
              <dt>Keychain round-trip</dt>
              <dd data-testid="diag-keychain-status" className={probe ? (probe.ok ? "ok" : "failed") : "muted"}>
                {probe ? probe.text : "Checking…"}
              </dd>
            </div>
            {!checking &&
              report?.entra.map((entra, i) => (
                <EntraRows key={entra.scope} entra={entra} index={i} checkedAtMs={checkedAtMs} />
              ))}
          </dl>
        )}
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

/** One Microsoft Entra ID sign-in (per token scope in use): which credential answered, the
 * tenant and when the token expires, or the error that says what to run. No token is shown. */
function EntraRows({ entra, index, checkedAtMs }: { entra: EntraReport; index: number; checkedAtMs: number }) {
  const line = signInLine(entra.signIn);
  const id = (what: string) => `diag-entra-${index}-${what}`;
  return (
    <>
      <div className="diag-row">
        <dt>Microsoft Entra ID</dt>
        <dd data-testid={id("status")} className={line.ok ? "ok" : "failed"}>
          {line.text}
        </dd>
      </div>
      {entra.signIn.status === "ok" && (
        <>
          <div className="diag-row">
            <dt>Tenant</dt>
            <dd data-testid={id("tenant")}>{entra.signIn.tenant ?? "not named in the token"}</dd>
          </div>
          <div className="diag-row">
            <dt>Token expires</dt>
            <dd data-testid={id("expires")}>{expiryText(entra.signIn.expiresAt, checkedAtMs)}</dd>
          </div>
        </>
      )}
      <div className="diag-row">
        <dt>Token scope</dt>
        <dd data-testid={id("scope")}>{entra.scope}</dd>
      </div>
      <div className="diag-row">
        <dt>Used by</dt>
        <dd data-testid={id("connections")}>{entra.connections.join(", ")}</dd>
      </div>
    </>
  );
}
