// The validator's findings; choosing one centres the canvas on its node.
import { useEditor } from "../editor/store";

export function ProblemsTab() {
  const diagnostics = useEditor((s) => s.diagnostics);
  const focusNode = useEditor((s) => s.focusNode);
  if (!diagnostics.length) return <p className="empty-state">No problems found in this flow.</p>;
  return (
    <ul className="run-problems" data-testid="problems-list">
      {diagnostics.map((d, i) => {
        const where = [d.node, d.property].filter(Boolean).join(" · ");
        const text = (
          <>
            <span className={`run-severity run-severity-${d.severity}`}>{d.severity === "error" ? "Error" : "Warning"}</span>
            {where && <code className="run-problem-where">{where}</code>}
            <span className="run-problem-message">{d.message}</span>
          </>
        );
        const node = d.node;
        return (
          <li key={`${i}:${d.message}`}>
            {node ? (
              <button
                type="button"
                className="run-problem"
                data-testid="problem-item"
                title={`Show ${node} on the canvas`}
                onClick={() => focusNode(node)}
              >
                {text}
              </button>
            ) : (
              <div className="run-problem" data-testid="problem-item">
                {text}
              </div>
            )}
          </li>
        );
      })}
    </ul>
  );
}
