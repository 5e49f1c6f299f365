// One line per flow input: which column fills it, or a static value, or nothing (its default or a
// same-named column then fills it, as Rust does). The Batch and Evaluate panels both edit with it.
import type { FlowInput } from "../../ipc/generated/FlowInput";
import { type MappingEntries, type MappingEntry, unmappedSource } from "./mapping";
import "./dataset.css";

const STATIC = "\u0000static";
const UNMAPPED = "\u0000unmapped";

function choiceOf(entry: MappingEntry): string {
  return entry.kind === "column" ? `col:${entry.column}` : entry.kind === "static" ? STATIC : UNMAPPED;
}

export function MappingEditor({
  inputs,
  columns,
  entries,
  problems,
  disabled,
  onChange,
  testId = "batch",
}: {
  inputs: Record<string, FlowInput>;
  columns: readonly string[];
  entries: MappingEntries;
  problems: Record<string, string>;
  disabled: boolean;
  onChange: (input: string, entry: MappingEntry) => void;
  /** What the test ids start with: `batch-map-question`, `eval-map-question`. */
  testId?: string;
}) {
  const names = Object.keys(inputs);
  if (!names.length) return <p className="muted">The flow has no inputs: every row runs it the same way.</p>;
  return (
    <table className="batch-mapping" data-testid={`${testId}-mapping`}>
      <thead>
        <tr>
          <th scope="col">Flow input</th>
          <th scope="col">Filled from</th>
        </tr>
      </thead>
      <tbody>
        {names.map((name) => {
          const input = inputs[name] as FlowInput;
          const entry = entries[name] ?? { kind: "unmapped" };
          const problem = problems[name];
          const fallback = unmappedSource(input, name, columns);
          // A mapped column the file lacks stays choosable, so the problem can be seen and fixed.
          const known = entry.kind === "column" && entry.column && !columns.includes(entry.column) ? [entry.column] : [];
          return (
            <tr key={name} className={problem ? "field-invalid" : undefined}>
              <th scope="row">
                <code>{name}</code> <span className="muted">{input.type}</span>
              </th>
              <td>
                <div className="batch-mapping-choice">
                  <select
                    aria-label={`Fill ${name} from`}
                    data-testid={`${testId}-map-${name}`}
                    disabled={disabled}
                    value={choiceOf(entry)}
                    onChange={(e) => {
                      const value = e.target.value;
                      if (value === STATIC) onChange(name, { kind: "static", value: entry.kind === "static" ? entry.value : "" });
                      else if (value === UNMAPPED) onChange(name, { kind: "unmapped" });
                      else onChange(name, { kind: "column", column: value.slice(4) });
                    }}
                  >
                    <optgroup label="Column">
                      {[...columns, ...known].map((column) => (
                        <option key={column} value={`col:${column}`}>
                          {column}
                        </option>
                      ))}
                    </optgroup>
                    <option value={STATIC}>A value for every row…</option>
                    <option value={UNMAPPED}>{fallback ? `Not mapped (${fallback})` : "Not mapped"}</option>
                  </select>
                  {entry.kind === "static" && (
                    <input
                      type="text"
                      aria-label={`Value of ${name} for every row`}
                      data-testid={`${testId}-static-${name}`}
                      disabled={disabled}
                      value={entry.value}
                      onChange={(e) => onChange(name, { kind: "static", value: e.target.value })}
                    />
                  )}
                </div>
                {problem && (
                  <p className="field-error" data-testid={`${testId}-map-problem-${name}`}>
                    {problem}
                  </p>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
