// How a results cell reads against a baseline: a row that passed in the baseline and fails now
// regressed, one that failed and passes now is fixed. The baseline's rows are fetched a page at
// a time beside the current run's (same offsets: both list every data row in row order), so the
// grid marks what is in view without reading either run whole.
import type { EvalRowView } from "../../ipc/generated/EvalRowView";

export type Mark = "regressed" | "fixed" | null;

/** `null` for a side without a verdict (the variant did not run there, or the row failed to run). */
export function markOf(was: boolean | null, now: boolean | null): Mark {
  if (was === true && now === false) return "regressed";
  if (was === false && now === true) return "fixed";
  return null;
}

export type MarkedRow = { row: EvalRowView; marks: Record<string, Mark> };

const passOf = (row: EvalRowView | undefined, variant: string): boolean | null => row?.cells.find((c) => c.variant === variant)?.pass ?? null;

/** Each row of a page with its marks per variant, the baseline's rows matched by row number. */
export function markPage(rows: EvalRowView[], baseline: EvalRowView[] | null, variants: readonly string[]): MarkedRow[] {
  const before = new Map((baseline ?? []).map((r) => [r.row, r]));
  return rows.map((row) => ({
    row,
    marks: Object.fromEntries(variants.map((v) => [v, baseline ? markOf(passOf(before.get(row.row), v), passOf(row, v)) : null])),
  }));
}

/** A page fetcher for RowPages: the run's rows, marked against the baseline's same page. */
export function markedPages(
  fetchRows: (id: string, offset: number, limit: number) => Promise<EvalRowView[]>,
  evalId: string,
  baselineId: string | null,
  variants: readonly string[],
): (offset: number, limit: number) => Promise<MarkedRow[]> {
  return async (offset, limit) => {
    const [rows, baseline] = await Promise.all([fetchRows(evalId, offset, limit), baselineId ? fetchRows(baselineId, offset, limit) : null]);
    return markPage(rows, baseline, variants);
  };
}
