// The `variables` map: one row per name a template sees, each a literal or a `${…}` reference.
import type { JsonValue } from "../../ipc/generated/serde_json/JsonValue";
import { uniqueId } from "../editor/references";
import { asText } from "./fields";

type Props = { nodeId: string; value: JsonValue | undefined; onChange: (value: JsonValue | undefined) => void; onBlur: () => void };

export function MapField({ nodeId, value, onChange, onBlur }: Props) {
  const entries = value && typeof value === "object" && !Array.isArray(value) ? Object.entries(value) : [];
  const write = (next: [string, JsonValue][]) => onChange(next.length ? Object.fromEntries(next) : undefined);
  return (
    <div className="map-field" data-testid={`map-${nodeId}`}>
      {entries.length === 0 && <p className="field-help">No variables yet: wire an output onto Variables, or add one.</p>}
      {entries.map(([name, item], index) => (
        <div className="map-row" key={index}>
          <input
            aria-label={`Variable ${index + 1} name`}
            value={name}
            onBlur={onBlur}
            onChange={(event) => write(entries.map((e, i) => (i === index ? [event.target.value, e[1]] : e)))}
          />
          <input
            aria-label={`Variable ${name} value`}
            value={asText(item)}
            placeholder="${inputs.name} or text"
            onBlur={onBlur}
            onChange={(event) => write(entries.map((e, i) => (i === index ? [e[0], event.target.value] : e)))}
          />
          <button type="button" className="btn btn-quiet btn-small" aria-label={`Remove variable ${name}`} onClick={() => write(entries.filter((_, i) => i !== index))}>
            ×
          </button>
        </div>
      ))}
      <button
        type="button"
        className="btn btn-small"
        onClick={() => write([...entries, [uniqueId("name", (n) => entries.some(([k]) => k === n)), ""]])}
      >
        + Add variable
      </button>
    </div>
  );
}
