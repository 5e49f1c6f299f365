// The thresholds each variant must reach for the eval to pass: a pass rate, ceilings on the p95
// latency and the cost, and a floor per metric. A field left empty is no threshold.
import { FieldError } from "./FieldError";
import type { EvalForm, FormErrors, MetricFloorDraft } from "./form";

type Edited = Pick<EvalForm, "passRate" | "p95LatencyMs" | "cost" | "metricFloors">;

const CEILINGS = [
  { key: "passRate", label: "Pass rate at least (%)", placeholder: "100 (every row)", testId: "eval-pass-rate" },
  { key: "p95LatencyMs", label: "p95 latency at most (ms)", placeholder: "no limit", testId: "eval-p95-latency" },
  { key: "cost", label: "Cost at most (per variant)", placeholder: "no limit", testId: "eval-cost" },
] as const;

export function ThresholdsEditor({
  form,
  metrics,
  errors,
  disabled,
  onChange,
}: {
  form: Edited;
  metrics: readonly string[];
  errors: FormErrors;
  disabled: boolean;
  onChange: (change: Partial<Edited>) => void;
}) {
  const floors = form.metricFloors;
  const setFloor = (i: number, row: MetricFloorDraft) => onChange({ metricFloors: floors.map((f, k) => (k === i ? row : f)) });
  const unfloored = metrics.find((m) => !floors.some((f) => f.metric.trim() === m)) ?? "";
  return (
    <section className="field" data-testid="eval-thresholds">
      <span className="field-label">Thresholds</span>
      <p className="field-help">Each variant must reach every one for the eval to pass. Empty: none.</p>
      <div className="eval-thresholds">
        {CEILINGS.map((c) => (
          <label key={c.key} className="eval-threshold">
            <span className="field-label">{c.label}</span>
            <input
              type="text"
              inputMode="decimal"
              placeholder={c.placeholder}
              data-testid={c.testId}
              disabled={disabled}
              value={form[c.key]}
              aria-invalid={errors[c.key] ? true : undefined}
              onChange={(e) => onChange({ [c.key]: e.target.value })}
            />
            <FieldError errors={errors} at={c.key} />
          </label>
        ))}
      </div>
      {floors.map((row, i) => {
        const id = `eval-metric-${i}`;
        return (
          <div key={i} className="eval-floor" data-testid={id}>
            <input
              type="text"
              list="eval-metric-names"
              aria-label={`Metric of floor ${i + 1}`}
              data-testid={`${id}-name`}
              disabled={disabled}
              value={row.metric}
              aria-invalid={errors[`metrics.${i}.metric`] ? true : undefined}
              onChange={(e) => setFloor(i, { ...row, metric: e.target.value })}
            />
            <span className="muted">scores at least</span>
            <input
              type="text"
              inputMode="decimal"
              placeholder="0.8"
              aria-label={`Least mean score of ${row.metric || `floor ${i + 1}`}, 0 to 1`}
              data-testid={`${id}-floor`}
              disabled={disabled}
              value={row.floor}
              aria-invalid={errors[`metrics.${i}.floor`] ? true : undefined}
              onChange={(e) => setFloor(i, { ...row, floor: e.target.value })}
            />
            <button
              type="button"
              className="btn btn-small btn-quiet"
              aria-label={`Remove floor ${i + 1}`}
              data-testid={`${id}-remove`}
              disabled={disabled}
              onClick={() => onChange({ metricFloors: floors.filter((_, k) => k !== i) })}
            >
              ✕
            </button>
            <FieldError errors={errors} at={`metrics.${i}.metric`} />
            <FieldError errors={errors} at={`metrics.${i}.floor`} />
          </div>
        );
      })}
      <datalist id="eval-metric-names">
        {metrics.map((m) => (
          <option key={m} value={m} />
        ))}
      </datalist>
      <button
        type="button"
        className="btn btn-small"
        data-testid="eval-add-metric"
        disabled={disabled}
        onClick={() => onChange({ metricFloors: [...floors, { metric: unfloored, floor: "" }] })}
      >
        + Metric floor
      </button>
    </section>
  );
}
