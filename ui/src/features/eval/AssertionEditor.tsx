// One assertion of the form: its type, the output it reads, the fields its type takes, weight and
// metric. Fields of another type are kept while the type is switched back and forth, but only
// the chosen type's are saved (form.ts).
import { ASSERTION_LABELS, ASSERTION_TYPES, type AssertionDraft, type AssertionField, type AssertionType, FIELDS, type FormErrors, takesOutput } from "./form";

const FIELD_LABELS: Record<AssertionField, string> = {
  value: "Value",
  rubric: "Rubric",
  connection: "Connection",
  deployment: "Deployment",
  threshold: "Threshold",
  min: "Min",
  max: "Max",
  flow: "Evaluator flow",
  inputs: "Inputs",
};

function placeholder(type: AssertionType, field: AssertionField): string {
  switch (field) {
    case "value":
      return type === "json_schema" ? '{"type": "object", "required": ["answer"]}' : type === "regex" ? "^\\d+$" : "text, or ${data.expected}";
    case "threshold":
      return type === "similar" ? "0.8" : "0.5";
    case "inputs":
      return "answer=${run.outputs.answer}\nexpected=${data.expected}";
    case "flow":
      return "judge.weft.yaml";
    case "max":
      return type === "latency_ms" ? "3000" : type === "cost" ? "0.01" : "";
    default:
      return "";
  }
}

export function AssertionEditor({
  index,
  draft,
  outputs,
  connections,
  errors,
  disabled,
  onChange,
  onRemove,
}: {
  index: number;
  draft: AssertionDraft;
  outputs: readonly string[];
  connections: readonly string[];
  errors: FormErrors;
  disabled: boolean;
  onChange: (draft: AssertionDraft) => void;
  onRemove: () => void;
}) {
  const key = `assert.${index}`;
  const id = `eval-assert-${index}`;
  const error = (field: string) => errors[`${key}.${field}`];
  const field = (name: AssertionField) => {
    const problem = error(name);
    const common = {
      "aria-label": `${FIELD_LABELS[name]} of assertion ${index + 1}`,
      "data-testid": `${id}-${name}`,
      disabled,
      value: draft[name],
      placeholder: placeholder(draft.type, name),
      "aria-invalid": problem ? true : undefined,
    };
    const multiline = name === "rubric" || name === "inputs" || (name === "value" && draft.type === "json_schema");
    return (
      <label key={name} className={`eval-field eval-field-${name}`}>
        <span className="field-label">{FIELD_LABELS[name]}</span>
        {multiline ? (
          <textarea rows={name === "rubric" ? 2 : 3} {...common} onChange={(e) => onChange({ ...draft, [name]: e.target.value })} />
        ) : name === "connection" && connections.length ? (
          <>
            <input list={`${id}-connections`} {...common} onChange={(e) => onChange({ ...draft, [name]: e.target.value })} />
            <datalist id={`${id}-connections`}>
              {connections.map((c) => (
                <option key={c} value={c} />
              ))}
            </datalist>
          </>
        ) : (
          <input
            type="text"
            inputMode={name === "min" || name === "max" || name === "threshold" ? "decimal" : undefined}
            {...common}
            onChange={(e) => onChange({ ...draft, [name]: e.target.value })}
          />
        )}
        {problem && (
          <span className="field-error" data-testid={`${id}-${name}-error`}>
            {problem}
          </span>
        )}
      </label>
    );
  };
  return (
    <li className="eval-assertion" data-testid={id}>
      <div className="eval-assertion-head">
        <select
          aria-label={`Type of assertion ${index + 1}`}
          data-testid={`${id}-type`}
          disabled={disabled}
          value={draft.type}
          onChange={(e) => onChange({ ...draft, type: e.target.value as AssertionType })}
        >
          {ASSERTION_TYPES.map((t) => (
            <option key={t} value={t}>
              {ASSERTION_LABELS[t]}
            </option>
          ))}
        </select>
        {takesOutput(draft.type) && (
          <select
            aria-label={`Output assertion ${index + 1} reads`}
            data-testid={`${id}-output`}
            disabled={disabled}
            value={draft.output}
            onChange={(e) => onChange({ ...draft, output: e.target.value })}
          >
            <option value="">{outputs.length === 1 ? `the output (${outputs[0]})` : "the only output"}</option>
            {[...outputs, ...(draft.output && !outputs.includes(draft.output) ? [draft.output] : [])].map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        )}
        <button type="button" className="btn btn-small btn-quiet" aria-label={`Remove assertion ${index + 1}`} data-testid={`${id}-remove`} disabled={disabled} onClick={onRemove}>
          ✕
        </button>
      </div>
      <div className="eval-assertion-fields">{FIELDS[draft.type].map(field)}</div>
      <div className="eval-assertion-fields eval-assertion-meta">
        <label className="eval-field">
          <span className="field-label">Weight</span>
          <input
            type="text"
            inputMode="decimal"
            placeholder="1"
            aria-label={`Weight of assertion ${index + 1}`}
            data-testid={`${id}-weight`}
            disabled={disabled}
            value={draft.weight}
            onChange={(e) => onChange({ ...draft, weight: e.target.value })}
          />
          {error("weight") && <span className="field-error">{error("weight")}</span>}
        </label>
        <label className="eval-field">
          <span className="field-label">Metric</span>
          <input
            type="text"
            placeholder={draft.type}
            aria-label={`Metric of assertion ${index + 1}`}
            data-testid={`${id}-metric`}
            disabled={disabled}
            value={draft.metric}
            onChange={(e) => onChange({ ...draft, metric: e.target.value })}
          />
        </label>
      </div>
    </li>
  );
}
