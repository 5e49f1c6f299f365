// The top bar's Evaluate: opens the Evaluate panel, and shows that an eval is running while it is closed.
import { isRunnable } from "../editor/catalog";
import { useEditor } from "../editor/store";
import { useEval } from "./store";

export function EvalButton() {
  const runnable = useEditor((s) => s.document.nodes.some((n) => isRunnable(n.type)));
  const running = useEval((s) => s.phase !== "idle");
  const openPanel = useEval((s) => s.openPanel);
  return (
    <button
      type="button"
      className="btn"
      data-testid="open-eval"
      disabled={!runnable && !running}
      title={runnable ? "Check the flow's answers over a dataset, variants side by side" : "Add a node to the flow to evaluate it"}
      onClick={openPanel}
    >
      {running && <span className="run-spinner" aria-hidden />}
      Evaluate
    </button>
  );
}
