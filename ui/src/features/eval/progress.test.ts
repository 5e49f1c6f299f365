import { expect, it } from "vitest";

import type { VariantSummary } from "../../ipc/generated/VariantSummary";
import { noProgress, progressReducer } from "./progress";

const summary: VariantSummary = {
  variant: "mini",
  rows: 3,
  passed: 2,
  failed: 1,
  pass_rate: 2 / 3,
  mean_latency_ms: 200,
  p95_latency_ms: 300,
  prompt_tokens: 30,
  completion_tokens: 12,
  cost: null,
  metrics: {},
};

it("follows each variant from its batch through checking to its summary", () => {
  let s = progressReducer(noProgress(), { type: "started", eval_id: "e1", variants: ["mini", "large"] });
  expect(s.byVariant.large?.phase).toBe("waiting");
  const progress = { type: "progress", done: 2, succeeded: 2, failed: 0, cancelled: 0, total: 3, rows_per_s: 1, concurrency: 4, in_flight: 1, throttles: 0, elapsed_ms: 10, eta_ms: 5 } as const;
  s = progressReducer(s, { type: "batch", variant: "mini", event: progress });
  expect(s.byVariant.mini).toMatchObject({ phase: "running", done: 2, total: 3 });
  s = progressReducer(s, { type: "checking", variant: "mini", done: 1, total: 3 });
  expect(s.byVariant.mini).toMatchObject({ phase: "checking", done: 1, total: 3 });
  s = progressReducer(s, { type: "variant_done", ...summary });
  expect(s.byVariant.mini).toMatchObject({ phase: "done", summary });
  expect(s.byVariant.large?.phase).toBe("waiting");
  // A variant the eval did not announce changes nothing.
  expect(progressReducer(s, { type: "checking", variant: "other", done: 1, total: 1 })).toBe(s);
});
