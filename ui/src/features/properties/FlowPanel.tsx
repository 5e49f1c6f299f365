// The flow's own fields, shown when nothing is selected: title, description, inputs and outputs.
import { useShallow } from "zustand/react/shallow";

import type { FlowDocument } from "../../ipc/generated/FlowDocument";
import type { FlowInput } from "../../ipc/generated/FlowInput";
import type { ValueType } from "../../ipc/generated/ValueType";
import { mapStrings, uniqueId } from "../editor/references";
import { useEditor } from "../editor/store";
import { asText } from "./fields";
import { Problems } from "./PropertyField";

const TYPES: ValueType[] = ["string", "number", "bool", "object", "list", "connection", "any"];

/** Renames a map key in place, keeping the order of the others. */
function renameKey<T>(map: Record<string, T>, from: string, to: string): Record<string, T> {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k === from ? to : k, v]));
}

/** Renames a flow input and the `${inputs.name}` references to it. */
function renameInput(doc: FlowDocument, from: string, to: string): FlowDocument {
  const pattern = new RegExp(`\\$\\{\\s*inputs\\.${from.replace(/[-]/g, "\\-")}(?=[.}\\s])`, "g");
  const rewrite = <T,>(value: T) => mapStrings(value, (text) => (text.includes(from) ? text.replace(pattern, `\${inputs.${to}`) : text));
  return {
    ...doc,
    inputs: renameKey(doc.inputs ?? {}, from, to),
    nodes: doc.nodes.map((n) => (n.properties ? { ...n, properties: rewrite(n.properties) } : n)),
    ...(doc.outputs ? { outputs: rewrite(doc.outputs) } : {}),
  };
}

function parseDefault(text: string, type: ValueType): FlowInput["default"] {
  if (type === "string" || type === "connection") return text;
  try {
    return JSON.parse(text) as FlowInput["default"];
  } catch {
    return text;
  }
}

export function FlowPanel() {
  const doc = useEditor((s) => s.document);
  const problems = useEditor(useShallow((s) => s.diagnostics.filter((d) => d.node === null)));
  const updateFlow = useEditor((s) => s.updateFlow);
  const endCoalescing = useEditor((s) => s.endCoalescing);
  const inputs = Object.entries(doc.inputs ?? {});
  const outputs = Object.entries(doc.outputs ?? {});
  const setInput = (name: string, input: FlowInput, key: string) =>
    updateFlow((d) => ({ ...d, inputs: { ...d.inputs, [name]: input } }), `input:${name}:${key}`);

  return (
    <>
      <h2 className="panel-title">Flow</h2>
      <Problems problems={problems} testId="problems-flow" />
      <div className="field">
        <label htmlFor="flow-title-input" className="field-label">
          Title
        </label>
        <input
          id="flow-title-input"
          data-testid="flow-title-input"
          value={doc.title ?? ""}
          onBlur={endCoalescing}
          onChange={(event) => updateFlow((d) => ({ ...d, title: event.target.value }), "flow:title")}
        />
      </div>
      <div className="field">
        <label htmlFor="flow-description" className="field-label">
          Description
        </label>
        <textarea
          id="flow-description"
          rows={2}
          value={doc.description ?? ""}
          onBlur={endCoalescing}
          onChange={(event) => updateFlow((d) => ({ ...d, description: event.target.value }), "flow:description")}
        />
      </div>

      <h3 className="panel-subtitle">Inputs</h3>
      {inputs.length === 0 && <p className="field-help">A flow’s inputs are given at each run; wire them from the Inputs node.</p>}
      {/* Keyed by name: the name field is uncontrolled (a rename applies on leaving it), so a row
          whose name changes elsewhere (undo, the Outputs node) must remount to show the new one. */}
      {inputs.map(([name, input]) => (
        <fieldset className="io-row" key={name} data-testid={`flow-input-${name}`}>
          <legend className="sr-only">Input {name}</legend>
          <input
            aria-label="Input name"
            defaultValue={name}
            onBlur={(event) => {
              const next = event.target.value.trim();
              if (next && next !== name && !(next in (doc.inputs ?? {}))) updateFlow((d) => renameInput(d, name, next));
              else event.target.value = name;
            }}
          />
          <select aria-label={`Type of ${name}`} value={input.type} onChange={(event) => setInput(name, { ...input, type: event.target.value as ValueType }, "type")}>
            {TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
          <label className="io-secret">
            <input type="checkbox" checked={input.secret === true} onChange={(event) => setInput(name, { ...input, secret: event.target.checked || undefined }, "secret")} /> secret
          </label>
          <button
            type="button"
            className="btn btn-quiet btn-small"
            aria-label={`Remove input ${name}`}
            onClick={() =>
              updateFlow((d) => {
                const next = { ...d.inputs };
                delete next[name];
                return { ...d, inputs: next };
              })
            }
          >
            ×
          </button>
          {/* A secret's value is given at run time only, so it has no default. */}
          {!input.secret && (
            <input
              className="io-wide"
              aria-label={`Default of ${name}`}
              placeholder="default (optional)"
              value={asText(input.default)}
              onBlur={endCoalescing}
              onChange={(event) => {
                const { default: _old, ...rest } = input;
                void _old;
                setInput(name, event.target.value === "" ? rest : { ...rest, default: parseDefault(event.target.value, input.type) }, "default");
              }}
            />
          )}
        </fieldset>
      ))}
      <button
        type="button"
        className="btn btn-small"
        data-testid="add-input"
        onClick={() => updateFlow((d) => ({ ...d, inputs: { ...d.inputs, [uniqueId("input", (n) => n in (d.inputs ?? {}))]: { type: "string" } } }))}
      >
        + Add input
      </button>

      <h3 className="panel-subtitle">Outputs</h3>
      {outputs.length === 0 && <p className="field-help">Wire a node’s output onto “+ new output” on the Outputs node, or add one here.</p>}
      {outputs.map(([name, output]) => (
        <fieldset className="io-row io-row-output" key={name} data-testid={`flow-output-${name}`}>
          <legend className="sr-only">Output {name}</legend>
          <input
            aria-label="Output name"
            defaultValue={name}
            onBlur={(event) => {
              const next = event.target.value.trim();
              if (next && next !== name && !(next in (doc.outputs ?? {}))) updateFlow((d) => ({ ...d, outputs: renameKey(d.outputs ?? {}, name, next) }));
              else event.target.value = name;
            }}
          />
          <input
            aria-label={`Value of ${name}`}
            value={output.value}
            placeholder="${node.output}"
            onBlur={endCoalescing}
            onChange={(event) => updateFlow((d) => ({ ...d, outputs: { ...d.outputs, [name]: { ...output, value: event.target.value } } }), `output:${name}`)}
          />
          <button
            type="button"
            className="btn btn-quiet btn-small"
            aria-label={`Remove output ${name}`}
            onClick={() =>
              updateFlow((d) => {
                const next = { ...d.outputs };
                delete next[name];
                return { ...d, outputs: next };
              })
            }
          >
            ×
          </button>
        </fieldset>
      ))}
      <button
        type="button"
        className="btn btn-small"
        onClick={() => updateFlow((d) => ({ ...d, outputs: { ...d.outputs, [uniqueId("output", (n) => n in (d.outputs ?? {}))]: { value: "" } } }))}
      >
        + Add output
      </button>
    </>
  );
}
