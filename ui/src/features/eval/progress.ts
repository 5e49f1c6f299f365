// An eval's live progress, per variant, from its event stream: each variant runs as a batch
// (rows done of total), then its rows are checked (judges may call models), then its summary
// arrives. Events of a variant the stream did not announce are ignored.
import type { EvalEvent } from "../../ipc/generated/EvalEvent";
import type { VariantSummary } from "../../ipc/generated/VariantSummary";

export type VariantProgress = {
  phase: "waiting" | "running" | "checking" | "done";
  done: number;
  total: number | null;
  failed: number;
  summary: VariantSummary | null;
};

export type EvalProgress = { evalId: string | null; variants: string[]; byVariant: Record<string, VariantProgress> };

export const noProgress = (): EvalProgress => ({ evalId: null, variants: [], byVariant: {} });

const waiting = (): VariantProgress => ({ phase: "waiting", done: 0, total: null, failed: 0, summary: null });

export function progressReducer(state: EvalProgress, event: EvalEvent): EvalProgress {
  if (event.type === "started")
    return { evalId: event.eval_id, variants: event.variants, byVariant: Object.fromEntries(event.variants.map((v) => [v, waiting()])) };
  const variant = event.variant;
  const was = state.byVariant[variant];
  if (!was) return state;
  let now: VariantProgress = was;
  switch (event.type) {
    case "batch":
      if (event.event.type === "progress") now = { ...was, phase: "running", done: event.event.done, total: event.event.total, failed: event.event.failed };
      else if (event.event.type === "started" && was.phase === "waiting") now = { ...was, phase: "running" };
      break;
    case "checking":
      now = { ...was, phase: "checking", done: event.done, total: event.total };
      break;
    case "variant_done": {
      const { type: _type, ...summary } = event;
      void _type;
      now = { ...was, phase: "done", done: summary.rows, total: summary.rows, summary };
      break;
    }
  }
  return now === was ? state : { ...state, byVariant: { ...state.byVariant, [variant]: now } };
}
