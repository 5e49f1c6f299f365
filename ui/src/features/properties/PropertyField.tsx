// One property's editor, chosen by the spec's `editor`. Typing in a field is one undo step (the
// store coalesces by node and property until the field loses focus).
import { type ReactNode, useEffect, useState } from "react";

import type { ConnectionType } from "../../ipc/generated/ConnectionType";
import type { Diagnostic } from "../../ipc/generated/Diagnostic";
import type { PropertySpec } from "../../ipc/generated/PropertySpec";
import type { JsonValue } from "../../ipc/generated/serde_json/JsonValue";
import { useConnections } from "../connections/store";
import { useEditor } from "../editor/store";
import { CodeField } from "./CodeField";
import { type Field, asText, connectionChoices, referenceChoices, wrongTypeMessage } from "./fields";
import { MapField } from "./MapField";

type Props = { nodeId: string; field: Field };

export function Problems({ problems, testId }: { problems: Diagnostic[]; testId: string }) {
  if (!problems.length) return null;
  return (
    <ul className="field-problems" data-testid={testId}>
      {problems.map((p, i) => (
        <li key={i} className={p.severity === "error" ? "problem-error" : "problem-warning"}>
          {p.message}
        </li>
      ))}
    </ul>
  );
}

export function PropertyField({ nodeId, field }: Props) {
  const { spec, value, problems } = field;
  const id = `prop-${nodeId}-${spec.key}`;
  const setProperty = useEditor((s) => s.setProperty);
  const endCoalescing = useEditor((s) => s.endCoalescing);
  const set = (next: JsonValue | undefined, coalesce = true) => setProperty(nodeId, spec.key, next === "" ? undefined : next, coalesce);
  const invalid = problems.some((p) => p.severity === "error");
  const common = { id, "aria-invalid": invalid, "aria-describedby": `${id}-help`, onBlur: endCoalescing, "data-testid": id };

  let control: ReactNode;
  switch (spec.editor.type) {
    case "template":
    case "expression":
      control = (
        <CodeField
          key={nodeId}
          id={id}
          nodeId={nodeId}
          value={asText(value)}
          label={spec.label}
          mode={spec.editor.type}
          invalid={invalid}
          placeholderText={spec.editor.type === "template" ? "Jinja text: {{ name }} reads Variables" : "e.g. score > 0.5"}
          onChange={(text) => set(text)}
          onBlur={endCoalescing}
        />
      );
      break;
    case "number": {
      const { min, max, step } = spec.editor;
      control = (
        <input
          {...common}
          type="number"
          min={min}
          max={max}
          step={step}
          value={typeof value === "number" ? value : asText(value)}
          onChange={(event) => set(event.target.value === "" ? undefined : Number.isNaN(event.target.valueAsNumber) ? event.target.value : event.target.valueAsNumber)}
        />
      );
      break;
    }
    case "switch":
      control = (
        <input
          {...common}
          type="checkbox"
          role="switch"
          checked={value === true}
          onChange={(event) => set(event.target.checked ? true : undefined, false)}
        />
      );
      break;
    case "select":
      control = (
        <select {...common} value={asText(value)} onChange={(event) => set(event.target.value, false)}>
          <option value="">{spec.required ? "Choose…" : "(default)"}</option>
          {spec.editor.options.map((option) => (
            <option key={option} value={option}>
              {option}
            </option>
          ))}
        </select>
      );
      break;
    case "connection":
      control = <ConnectionPicker {...common} nodeId={nodeId} spec={spec} accepts={field.accepts} value={asText(value)} onPick={(name) => set(name, false)} />;
      break;
    case "variable":
      control = <ReferencePicker {...common} nodeId={nodeId} spec={spec} value={asText(value)} onPick={(ref) => set(ref, false)} />;
      break;
    case "json":
      control = <JsonField key={nodeId} {...common} value={value} onCommit={(next) => set(next)} />;
      break;
    case "map":
      control = <MapField nodeId={nodeId} value={value} onChange={(next) => set(next)} onBlur={endCoalescing} />;
      break;
    default:
      control = <input {...common} type="text" value={asText(value)} onChange={(event) => set(event.target.value)} />;
  }

  return (
    <div className={`field${invalid ? " field-invalid" : ""}`}>
      <label htmlFor={id} className="field-label">
        {spec.label}
        {spec.required && (
          <span className="required" aria-label="required">
            {" "}
            *
          </span>
        )}
      </label>
      {control}
      <p id={`${id}-help`} className="field-help">
        {spec.help}
      </p>
      <Problems problems={problems} testId={`problems-${nodeId}-${spec.key}`} />
    </div>
  );
}

type PickerProps = { id: string; value: string; onBlur: () => void; "data-testid": string; "aria-invalid": boolean };

function ConnectionPicker({ value, nodeId, spec, accepts, onPick, ...rest }: PickerProps & { nodeId: string; spec: PropertySpec; accepts: ConnectionType[] | null; onPick: (name: string) => void }) {
  const connections = useConnections((s) => s.connections);
  const kinds = useConnections((s) => s.kinds);
  const openManager = useConnections((s) => s.openManager);
  useEffect(() => {
    // The manager keeps the list fresh after an edit; this fills it (and the types' labels) the first time.
    void useConnections.getState().load();
  }, []);
  const choices = connectionChoices(connections, accepts);
  const named = value.trim().toLowerCase();
  const saved = named ? connections.find((c) => c.name.toLowerCase() === named) : undefined;
  const wrongType = saved && accepts && !accepts.includes(saved.type) ? saved : undefined;
  const labels = new Map(kinds.map((k) => [k.kind as string, k.label]));
  const errorId = `${rest.id}-type-error`;
  return (
    <>
      <div className="picker-row">
        <select
          {...rest}
          aria-invalid={rest["aria-invalid"] || wrongType !== undefined}
          aria-errormessage={wrongType ? errorId : undefined}
          value={value}
          onChange={(event) => {
            if (event.target.value !== NEW) return onPick(event.target.value);
            const kind = accepts?.[0] ?? useConnections.getState().newKind;
            void openManager({ mode: "new", kind }, { label: `the ${spec.label} of node ${nodeId}`, accepts, pick: onPick });
          }}
        >
          <option value="">{choices.length ? "Choose a connection…" : connections.length ? "No saved connection of this type" : "No saved connections"}</option>
          {value && !choices.some((c) => c.name === value) && (
            <option value={value}>{wrongType ? `${value} · ${wrongType.type}` : `${value} (not saved here)`}</option>
          )}
          {choices.map((c) => (
            <option key={c.name} value={c.name}>
              {c.name} · {c.type}
            </option>
          ))}
          <option value={NEW}>New connection…</option>
        </select>
      </div>
      {wrongType && accepts && (
        <p className="field-error" id={errorId} data-testid={errorId}>
          {wrongTypeMessage(wrongType, accepts, labels)}
        </p>
      )}
    </>
  );
}

/** The picker's "New connection…" entry: a value no connection name can be. */
const NEW = "\u0000new";

function ReferencePicker({ value, nodeId, spec, onPick, ...rest }: PickerProps & { nodeId: string; spec: PropertySpec; onPick: (ref: string) => void }) {
  const doc = useEditor((s) => s.document);
  const choices = referenceChoices(doc, nodeId, spec);
  return (
    <select {...rest} value={value} onChange={(event) => onPick(event.target.value)}>
      <option value="">{choices.length ? "(none)" : "Nothing to choose yet: declare a variable or add a Condition"}</option>
      {value && !choices.some((c) => c.value === value) && <option value={value}>{value}</option>}
      {choices.map((c) => (
        <option key={c.value} value={c.value}>
          {c.label}
        </option>
      ))}
    </select>
  );
}

/** JSON, or a `${…}` reference; text that is neither stays here with a message until fixed. */
function JsonField({ value, onCommit, ...rest }: Omit<PickerProps, "value"> & { value: JsonValue | undefined; onCommit: (value: JsonValue | undefined) => void }) {
  const shown = value === undefined ? "" : typeof value === "string" && value.includes("${") ? value : JSON.stringify(value, null, 2);
  const [draft, setDraft] = useState(shown);
  const [error, setError] = useState<string | null>(null);
  const [lastShown, setLastShown] = useState(shown);
  // Undo or a wire changed the value from outside: show it.
  if (shown !== lastShown) {
    setLastShown(shown);
    setDraft(shown);
    setError(null);
  }
  return (
    <>
      <textarea
        {...rest}
        className="json-field"
        rows={Math.min(8, Math.max(2, draft.split("\n").length))}
        spellCheck={false}
        value={draft}
        onChange={(event) => {
          const text = event.target.value;
          setDraft(text);
          if (text.trim() === "") return (setError(null), onCommit(undefined));
          if (text.trim().startsWith("${")) return (setError(null), onCommit(text.trim()));
          try {
            const parsed = JSON.parse(text) as JsonValue;
            setError(null);
            setLastShown(JSON.stringify(parsed, null, 2));
            onCommit(parsed);
          } catch (e) {
            setError(`Not JSON yet: ${(e as Error).message}`);
          }
        }}
      />
      {error && <p className="field-error">{error}</p>}
    </>
  );
}
