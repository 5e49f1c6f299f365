// The top bar's Test run (and Cancel while a run is in progress).
import { useShallow } from "zustand/react/shallow";

import { isRunnable } from "../editor/catalog";
import { useEditor } from "../editor/store";
import { useRun } from "./store";

export function TestRunButton() {
  const runnable = useEditor((s) => s.document.nodes.some((n) => isRunnable(n.type)));
  const { phase, cancelling, testRun, cancel } = useRun(
    useShallow((s) => ({ phase: s.phase, cancelling: s.cancelling, testRun: s.testRun, cancel: s.cancel })),
  );
  const title = !runnable
    ? "Add a node to the flow to run it"
    : phase === "running"
      ? "A run is in progress"
      : "Check the flow, ask for its inputs and run it";
  return (
    <>
      {phase === "running" && (
        <button type="button" className="btn btn-danger" data-testid="cancel-run" disabled={cancelling} onClick={() => void cancel()}>
          {cancelling ? "Cancelling…" : "Cancel"}
        </button>
      )}
      <button
        type="button"
        className="btn btn-primary run-button"
        data-testid="test-run"
        disabled={!runnable || phase !== "idle"}
        aria-busy={phase !== "idle"}
        title={title}
        onClick={() => void testRun()}
      >
        {phase === "idle" ? <span aria-hidden>▶</span> : <span className="run-spinner" aria-hidden />}
        {phase === "validating" ? "Checking…" : phase === "running" ? "Running…" : "Test run"}
      </button>
    </>
  );
}
