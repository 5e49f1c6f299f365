import { useDiagnostics } from "../features/diagnostics/store";
import { useEditor } from "../features/editor/store";

export function StatusBar() {
  const openDiagnostics = useDiagnostics((s) => s.open);
  const nodeCount = useEditor((s) => s.document.nodes.length);
  const edgeCount = useEditor((s) => s.edges.length);
  return (
    <footer className="statusbar">
      <span className="muted">
        {nodeCount} nodes · {edgeCount} connections
      </span>
      <button type="button" className="btn btn-quiet btn-small" data-testid="open-diagnostics" onClick={() => void openDiagnostics()}>
        Diagnostics
      </button>
    </footer>
  );
}
