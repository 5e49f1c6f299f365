// The top bar's Batch: opens the Batch panel, and shows a running batch's progress while it is closed.
import { useShallow } from "zustand/react/shallow";

import { isRunnable } from "../editor/catalog";
import { useEditor } from "../editor/store";
import { useBatch } from "./store";

export function BatchButton() {
  const runnable = useEditor((s) => s.document.nodes.some((n) => isRunnable(n.type)));
  const { running, done, total, openPanel } = useBatch(
    useShallow((s) => ({
      running: s.phase !== "idle",
      done: s.progress?.done ?? 0,
      total: s.progress?.total ?? null,
      openPanel: s.openPanel,
    })),
  );
  return (
    <button
      type="button"
      className="btn"
      data-testid="open-batch"
      disabled={!runnable && !running}
      title={runnable ? "Run the flow over every row of a data file" : "Add a node to the flow to run it"}
      onClick={openPanel}
    >
      {running && <span className="run-spinner" aria-hidden />}
      {running ? `Batch ${total ? `${Math.floor((done * 100) / Math.max(1, total))}%` : done.toLocaleString("en-US")}` : "Batch"}
    </button>
  );
}
