import { memo } from "react";

import type { FieldSpec } from "../../ipc/generated/FieldSpec";

type Props = { field: FieldSpec; value: string; onChange: (value: string) => void };

/** A choice field as a segmented control: native radios, so keyboard and screen readers work. */
export const ChoiceField = memo(function ChoiceField({ field, value, onChange }: Props) {
  // Stored values are matched as validation matches them, without regard to case.
  const selected = (value.trim() || field.default || "").toLowerCase();
  return (
    <div className="conn-choice" role="radiogroup" aria-label={field.label} data-testid={`conn-choice-${field.key}`}>
      {field.choices.map((choice) => (
        <label key={choice.value} className={choice.value === selected ? "selected" : undefined}>
          <input
            type="radio"
            name={`conn-${field.key}`}
            value={choice.value}
            data-testid={`conn-choice-${field.key}-${choice.value}`}
            checked={choice.value === selected}
            onChange={() => onChange(choice.value)}
          />
          {choice.label}
        </label>
      ))}
    </div>
  );
});
