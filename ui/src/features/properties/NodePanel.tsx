import { useState } from "react";
import { useShallow } from "zustand/react/shallow";

import { isFlowPort, kindIcon, kindSpec } from "../editor/catalog";
import { useEditor } from "../editor/store";
import { fieldsFor, nodeProblems } from "./fields";
import { Problems, PropertyField } from "./PropertyField";

/** The id field: renaming rewrites every reference, so it applies on Enter or leaving the field. */
function IdField({ id }: { id: string }) {
  const [draft, setDraft] = useState(id);
  const [error, setError] = useState<string | null>(null);
  const renameNode = useEditor((s) => s.renameNode);
  const apply = () => {
    const reason = renameNode(id, draft.trim());
    setError(reason);
  };
  return (
    <div className="field">
      <label htmlFor="node-id" className="field-label">
        Id
      </label>
      <input
        id="node-id"
        data-testid="node-id"
        value={draft}
        aria-invalid={error !== null}
        onChange={(event) => setDraft(event.target.value)}
        onBlur={apply}
        onKeyDown={(event) => {
          if (event.key === "Enter") apply();
          if (event.key === "Escape") {
            setDraft(id);
            setError(null);
          }
        }}
      />
      <p className="field-help">Other nodes read this one as {"${" + (draft || id) + ".output}"}; renaming updates them.</p>
      {error && <p className="field-error">{error}</p>}
    </div>
  );
}

export function NodePanel({ id }: { id: string }) {
  const node = useEditor((s) => s.document.nodes.find((n) => n.id === id));
  const diagnostics = useEditor(useShallow((s) => s.diagnostics.filter((d) => d.node === id)));
  const setNodeTitle = useEditor((s) => s.setNodeTitle);
  const endCoalescing = useEditor((s) => s.endCoalescing);
  if (!node) return null;
  const spec = kindSpec(node.type);
  const io = isFlowPort(node.type);
  return (
    <>
      <h2 className="panel-title">
        <span aria-hidden>{kindIcon(node.type)}</span> {spec?.title ?? node.type}
      </h2>
      <p className="field-help">{spec?.description}</p>
      <Problems problems={nodeProblems(node, diagnostics)} testId={`problems-${id}`} />
      <div className="field">
        <label htmlFor="node-title" className="field-label">
          Title
        </label>
        <input id="node-title" data-testid="node-title" value={node.title ?? ""} placeholder={spec?.title} onChange={(event) => setNodeTitle(id, event.target.value)} onBlur={endCoalescing} />
      </div>
      {!io && <IdField key={id} id={id} />}
      {io && <p className="empty-state">The flow’s {node.type} are edited with the flow: click the empty canvas to see them.</p>}
      {fieldsFor(node, diagnostics).map((field) => (
        <PropertyField key={field.spec.key} nodeId={id} field={field} />
      ))}
    </>
  );
}
