import { useEditor } from "../editor/store";

export function PropertyPanel() {
  const selected = useEditor((s) => s.nodes.find((node) => node.selected));
  return (
    <aside className="properties" aria-label="Properties">
      <h2 className="panel-title">Properties</h2>
      {selected ? (
        <dl className="props">
          <dt>Node</dt>
          <dd>{selected.id}</dd>
        </dl>
      ) : (
        <p className="empty-state">Select a node to edit its properties.</p>
      )}
    </aside>
  );
}
