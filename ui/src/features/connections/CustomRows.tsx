import { memo } from "react";

import { type CustomRow, newRow } from "./form";

type Props = {
  rows: CustomRow[];
  problems: Record<string, string[]>;
  onChange: (rows: CustomRow[]) => void;
};

/** The key-value editor of a custom connection; each key is plain or secret. */
export const CustomRows = memo(function CustomRows({ rows, problems, onChange }: Props) {
  const update = (id: number, patch: Partial<CustomRow>) =>
    onChange(rows.map((row) => (row.id === id ? { ...row, ...patch } : row)));
  return (
    <fieldset className="conn-custom">
      <legend>Keys</legend>
      {rows.map((row, index) => (
        <div className="conn-custom-row" key={row.id}>
          <input
            aria-label={`Key ${index + 1}`}
            placeholder="key"
            value={row.key}
            disabled={row.stored}
            onChange={(event) => update(row.id, { key: event.target.value })}
          />
          <input
            aria-label={`Value of ${row.key || `key ${index + 1}`}`}
            type={row.secret ? "password" : "text"}
            autoComplete="off"
            placeholder={row.stored ? "•••••• (leave empty to keep)" : "value"}
            value={row.value}
            onChange={(event) => update(row.id, { value: event.target.value })}
          />
          <label className="conn-custom-secret">
            <input
              type="checkbox"
              checked={row.secret}
              disabled={row.stored}
              onChange={(event) => update(row.id, { secret: event.target.checked })}
            />
            secret
          </label>
          <button
            type="button"
            className="btn btn-small"
            aria-label={`Remove ${row.key || `key ${index + 1}`}`}
            onClick={() => onChange(rows.filter((other) => other.id !== row.id))}
          >
            ✕
          </button>
          {problems[row.key.trim()]?.map((message) => (
            <p className="field-problem" key={message}>
              {message}
            </p>
          ))}
        </div>
      ))}
      <button type="button" className="btn btn-small" onClick={() => onChange([...rows, newRow()])}>
        Add key
      </button>
    </fieldset>
  );
});
