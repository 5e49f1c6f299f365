// The `prices:` table: a deployment or model and what a million input and output tokens cost, which
// the `cost` assertions and threshold read. Names are suggested from the flow, variants and judges.
import { FieldError } from "./FieldError";
import type { FormErrors, PriceDraft } from "./form";

export function PricesEditor({
  prices,
  deployments,
  errors,
  disabled,
  onChange,
}: {
  prices: readonly PriceDraft[];
  deployments: readonly string[];
  errors: FormErrors;
  disabled: boolean;
  onChange: (prices: PriceDraft[]) => void;
}) {
  const setRow = (i: number, row: PriceDraft) => onChange(prices.map((p, k) => (k === i ? row : p)));
  // A name the other rows have not priced yet, if the flow names one.
  const unpriced = deployments.find((d) => !prices.some((p) => p.name.trim() === d)) ?? "";
  return (
    <section className="field" data-testid="eval-prices">
      <span className="field-label">Prices per million tokens</span>
      <p className="field-help">What a deployment or model costs, in one currency; the cost assertions and threshold read them.</p>
      {prices.length > 0 && (
        <div className="eval-price eval-price-head" aria-hidden>
          <span className="field-label">Deployment</span>
          <span className="field-label">Input</span>
          <span className="field-label">Output</span>
        </div>
      )}
      {prices.map((row, i) => {
        const invalid = (field: keyof PriceDraft) => (errors[`prices.${i}.${field}`] ? true : undefined);
        const id = `eval-price-${i}`;
        return (
          <div key={i} className="eval-price" data-testid={id}>
            <input
              type="text"
              list="eval-price-deployments"
              aria-label={`Deployment or model of price ${i + 1}`}
              data-testid={`${id}-name`}
              disabled={disabled}
              value={row.name}
              aria-invalid={invalid("name")}
              onChange={(e) => setRow(i, { ...row, name: e.target.value })}
            />
            {(["input", "output"] as const).map((field) => (
              <input
                key={field}
                type="text"
                inputMode="decimal"
                placeholder={field === "input" ? "2.50" : "10.00"}
                aria-label={`${field === "input" ? "Input" : "Output"} price of ${row.name || `price ${i + 1}`} per million tokens`}
                data-testid={`${id}-${field}`}
                disabled={disabled}
                value={row[field]}
                aria-invalid={invalid(field)}
                onChange={(e) => setRow(i, { ...row, [field]: e.target.value })}
              />
            ))}
            <button
              type="button"
              className="btn btn-small btn-quiet"
              aria-label={`Remove price ${i + 1}`}
              data-testid={`${id}-remove`}
              disabled={disabled}
              onClick={() => onChange(prices.filter((_, k) => k !== i))}
            >
              ✕
            </button>
            <FieldError errors={errors} at={`prices.${i}.name`} />
            <FieldError errors={errors} at={`prices.${i}.input`} />
            <FieldError errors={errors} at={`prices.${i}.output`} />
          </div>
        );
      })}
      <datalist id="eval-price-deployments">
        {deployments.map((d) => (
          <option key={d} value={d} />
        ))}
      </datalist>
      <button
        type="button"
        className="btn btn-small"
        data-testid="eval-add-price"
        disabled={disabled}
        onClick={() => onChange([...prices, { name: unpriced, input: "", output: "" }])}
      >
        + Price
      </button>
    </section>
  );
}
