import { memo, useState } from "react";

import { connectionsIpc } from "../../ipc/connections";
import { toIpcError } from "../../ipc/errors";
import type { ConnectionKind } from "../../ipc/generated/ConnectionKind";

const TESTABLE: ReadonlySet<ConnectionKind> = new Set(["azure_ai", "azure_open_ai", "open_ai", "serverless"]);

type Props = { name: string; kind: ConnectionKind; pinsDeployment: boolean };
type Outcome = { ok: boolean; text: string } | null;

/** Calls the saved connection's service for real and says how it went. */
export const TestConnection = memo(function TestConnection({ name, kind, pinsDeployment }: Props) {
  const [deployment, setDeployment] = useState("");
  const [testing, setTesting] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);
  if (!TESTABLE.has(kind)) return null;
  const needsDeployment = kind !== "serverless" && !pinsDeployment;

  const run = async () => {
    setTesting(true);
    setOutcome(null);
    try {
      const check = await connectionsIpc.test(name, needsDeployment ? deployment : null);
      const model = check.model ? ` · ${check.model}` : "";
      // Which API answered matters since Azure retired /models: a user sees that v1 is in use.
      setOutcome({ ok: true, text: `Connected in ${Math.round(check.latencyMs)} ms through the ${check.api}${model}` });
    } catch (raw) {
      setOutcome({ ok: false, text: toIpcError(raw).message });
    } finally {
      setTesting(false);
    }
  };

  return (
    <div className="conn-test">
      {needsDeployment && (
        <input
          aria-label="Deployment to test with"
          data-testid="conn-test-deployment"
          placeholder={kind === "open_ai" ? "Model, e.g. gpt-4o-mini" : "Deployment, e.g. gpt-4o-mini"}
          value={deployment}
          onChange={(event) => setDeployment(event.target.value)}
        />
      )}
      <button
        type="button"
        className="btn"
        data-testid="conn-test"
        disabled={testing || (needsDeployment && !deployment.trim())}
        onClick={() => void run()}
      >
        {testing ? "Testing…" : "Test connection"}
      </button>
      {outcome && (
        <p className={`banner ${outcome.ok ? "banner-ok" : "banner-error"}`} role="status" data-testid="conn-test-result">
          {outcome.text}
        </p>
      )}
    </div>
  );
});
