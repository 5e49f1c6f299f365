import { memo } from "react";

import type { SecretField as SecretState } from "./form";

type Props = {
  id: string;
  label: string;
  field: SecretState;
  onChange: (field: SecretState) => void;
};

/** Write-only: a stored secret is never shown or sent back, only replaced. */
export const SecretField = memo(function SecretField({ id, label, field, onChange }: Props) {
  if (field.stored && !field.replacing) {
    return (
      <div className="conn-secret-stored">
        <span className="conn-mask" aria-label={`${label}: stored in the OS keychain`}>
          ••••••
        </span>
        <button
          type="button"
          className="btn btn-small"
          data-testid={`conn-secret-replace-${id}`}
          onClick={() => onChange({ ...field, replacing: true, value: "" })}
        >
          Replace
        </button>
      </div>
    );
  }
  return (
    <div className="conn-secret-edit">
      <input
        id={`conn-${id}`}
        data-testid={`conn-secret-${id}`}
        type="password"
        autoComplete="off"
        spellCheck={false}
        aria-label={label}
        placeholder={field.stored ? "New value (leave empty to keep)" : "Paste the key"}
        value={field.value}
        onChange={(event) => onChange({ ...field, value: event.target.value })}
      />
      {field.stored && (
        <button
          type="button"
          className="btn btn-small"
          onClick={() => onChange({ ...field, replacing: false, value: "" })}
        >
          Keep stored
        </button>
      )}
    </div>
  );
});
