// One variant of the form: its name and the `node.property = value` changes it makes to the flow,
// the node and property chosen from the flow open in the editor.
import { isRunnable, kindSpec } from "../editor/catalog";
import type { FormErrors, SetDraft, VariantDraft } from "./form";

export type FlowNodeChoice = { id: string; type: string };

export function VariantEditor({
  index,
  draft,
  nodes,
  errors,
  disabled,
  onChange,
  onRemove,
}: {
  index: number;
  draft: VariantDraft;
  nodes: readonly FlowNodeChoice[];
  errors: FormErrors;
  disabled: boolean;
  onChange: (draft: VariantDraft) => void;
  onRemove: () => void;
}) {
  const id = `eval-variant-${index}`;
  const runnable = nodes.filter((n) => isRunnable(n.type));
  const setRow = (j: number, row: SetDraft) => onChange({ ...draft, sets: draft.sets.map((s, k) => (k === j ? row : s)) });
  const nameError = errors[`variants.${index}.name`];
  return (
    <li className="eval-variant" data-testid={id}>
      <div className="eval-assertion-head">
        <input
          type="text"
          aria-label={`Name of variant ${index + 1}`}
          data-testid={`${id}-name`}
          disabled={disabled}
          value={draft.name}
          aria-invalid={nameError ? true : undefined}
          onChange={(e) => onChange({ ...draft, name: e.target.value })}
        />
        <button type="button" className="btn btn-small btn-quiet" aria-label={`Remove variant ${index + 1}`} disabled={disabled} onClick={onRemove}>
          ✕
        </button>
      </div>
      {nameError && <p className="field-error">{nameError}</p>}
      {draft.sets.length === 0 && <p className="muted">Runs the flow as it is.</p>}
      {draft.sets.map((row, j) => {
        const node = nodes.find((n) => n.id === row.node);
        const properties = node ? (kindSpec(node.type)?.properties ?? []).map((p) => p.key) : [];
        const problem = errors[`variants.${index}.set.${j}`];
        return (
          <div key={j} className="eval-set" data-testid={`${id}-set-${j}`}>
            <select
              aria-label={`Node variant ${index + 1} changes`}
              data-testid={`${id}-set-${j}-node`}
              disabled={disabled}
              value={row.node}
              onChange={(e) => setRow(j, { ...row, node: e.target.value, property: "" })}
            >
              <option value="">node…</option>
              {[...runnable, ...(row.node && !node ? [{ id: row.node, type: "" }] : [])].map((n) => (
                <option key={n.id} value={n.id}>
                  {n.id}
                </option>
              ))}
            </select>
            <span aria-hidden>.</span>
            <select
              aria-label={`Property variant ${index + 1} changes`}
              data-testid={`${id}-set-${j}-property`}
              disabled={disabled || !row.node}
              value={row.property}
              onChange={(e) => setRow(j, { ...row, property: e.target.value })}
            >
              <option value="">property…</option>
              {[...properties, ...(row.property && !properties.includes(row.property) ? [row.property] : [])].map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
            <span aria-hidden>=</span>
            <input
              type="text"
              aria-label={`Value variant ${index + 1} sets`}
              data-testid={`${id}-set-${j}-value`}
              disabled={disabled}
              value={row.value}
              onChange={(e) => setRow(j, { ...row, value: e.target.value })}
            />
            <button
              type="button"
              className="btn btn-small btn-quiet"
              aria-label={`Remove change ${j + 1} of variant ${index + 1}`}
              disabled={disabled}
              onClick={() => onChange({ ...draft, sets: draft.sets.filter((_, k) => k !== j) })}
            >
              ✕
            </button>
            {problem && <p className="field-error">{problem}</p>}
          </div>
        );
      })}
      <button
        type="button"
        className="btn btn-small"
        data-testid={`${id}-add-set`}
        disabled={disabled}
        onClick={() => onChange({ ...draft, sets: [...draft.sets, { node: runnable.length === 1 ? (runnable[0]?.id ?? "") : "", property: "", value: "" }] })}
      >
        + Change a property
      </button>
    </li>
  );
}
