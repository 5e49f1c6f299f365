// A form field's problem, under the field, keyed as fileOf keys it (`prices.0.input`, `cost`…).
import type { FormErrors } from "./form";

export function FieldError({ errors, at }: { errors: FormErrors; at: string }) {
  const problem = errors[at];
  if (!problem) return null;
  return (
    <p className="field-error" data-testid={`eval-error-${at}`}>
      {problem}
    </p>
  );
}
