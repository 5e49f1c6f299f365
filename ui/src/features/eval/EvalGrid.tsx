// An eval's rows, virtualised like the batch grid (only the rows in view are in the DOM and only
// their pages are fetched): one column per variant, pass or fail with the score, every
// assertion's verdict on hover, and against a baseline the cells that regressed or were fixed.
import { useVirtualizer } from "@tanstack/react-virtual";
import { type CSSProperties, useEffect, useMemo, useRef, useSyncExternalStore } from "react";

import type { EvalCell } from "../../ipc/generated/EvalCell";
import { evalIpc } from "../../ipc/eval";
import { RowPages } from "../batch/paging";
import { type Mark, type MarkedRow, markedPages } from "./marks";

const ROW_HEIGHT = 30;

function brief(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "object" && !Array.isArray(value)) {
    const entries = Object.entries(value);
    if (entries.length === 1) return brief(entries[0]?.[1]);
  }
  return JSON.stringify(value);
}

/** Every verdict of the cell, failed ones first, as the hover text reads them. */
export function reasons(cell: EvalCell): string {
  if (cell.error) return cell.error;
  const sorted = [...cell.verdicts].sort((a, b) => Number(a.pass) - Number(b.pass));
  return sorted.map((v) => `${v.pass ? "✓" : "✗"} ${v.metric}: ${v.reason}`).join("\n");
}

const MARK_LABEL: Record<Exclude<Mark, null>, string> = { regressed: "regressed: passed in the baseline", fixed: "fixed: failed in the baseline" };

function Cell({ cell, mark, variant }: { cell: EvalCell | undefined; mark: Mark; variant: string }) {
  if (!cell)
    return (
      <span role="gridcell" className="muted" data-variant={variant}>
        –
      </span>
    );
  const why = reasons(cell);
  return (
    <span
      role="gridcell"
      className={`eval-cell eval-cell-${cell.pass ? "pass" : "fail"}${mark ? ` eval-cell-${mark}` : ""}`}
      title={mark ? `${MARK_LABEL[mark]}\n${why}` : why}
      data-testid="eval-cell"
      data-variant={variant}
      data-pass={cell.pass}
      data-mark={mark ?? undefined}
    >
      {mark === "regressed" ? "▼ " : mark === "fixed" ? "▲ " : ""}
      {cell.pass ? "Pass" : "Fail"} <span className="muted">{cell.score.toFixed(2)}</span>
    </span>
  );
}

function Row({ marked, variants, index, start }: { marked: MarkedRow | undefined; variants: readonly string[]; index: number; start: number }) {
  const style = { transform: `translateY(${start}px)`, height: ROW_HEIGHT };
  if (!marked)
    return (
      <div className="eval-grid-row batch-grid-loading" role="row" aria-rowindex={index + 2} style={style}>
        <span role="gridcell" className="muted">
          …
        </span>
      </div>
    );
  const { row, marks } = marked;
  return (
    <div className="eval-grid-row" role="row" aria-rowindex={index + 2} style={style} data-testid="eval-grid-row" data-row={row.row}>
      <span role="gridcell" className="batch-num">
        {row.row + 1}
      </span>
      <span role="gridcell" className="batch-cell" title={brief(row.inputs)}>
        {brief(row.inputs)}
      </span>
      {variants.map((v) => (
        <Cell key={v} cell={row.cells.find((c) => c.variant === v)} mark={marks[v] ?? null} variant={v} />
      ))}
    </div>
  );
}

export function EvalGrid({ evalId, baselineId, variants, count }: { evalId: string; baselineId: string | null; variants: readonly string[]; count: number }) {
  const pages = useMemo(
    () => new RowPages<MarkedRow>(markedPages((id, offset, limit) => evalIpc.rows(id, offset, limit), evalId, baselineId, variants)),
    [evalId, baselineId, variants],
  );
  useEffect(() => () => pages.close(), [pages]);
  useSyncExternalStore(pages.subscribe, () => pages.version);
  const scroller = useRef<HTMLDivElement>(null);
  // TanStack Virtual keeps its own state and re-renders this component itself; nothing it returns is memoised.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({ count, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 10 });
  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? -1;
  useEffect(() => pages.want(first, last), [pages, first, last]);
  // The rows' columns: the row number, its inputs, then one per variant.
  const columns = { "--eval-columns": `56px minmax(160px, 1fr) repeat(${variants.length}, minmax(110px, 160px))` } as CSSProperties;
  return (
    <div className="batch-grid eval-grid" role="grid" aria-label="Rows of the eval" aria-rowcount={count + 1} data-testid="eval-grid" style={columns}>
      <div className="eval-grid-row batch-grid-head" role="row" aria-rowindex={1}>
        <span role="columnheader" className="batch-num">
          Row
        </span>
        <span role="columnheader">Inputs</span>
        {variants.map((v) => (
          <span key={v} role="columnheader" data-testid="eval-grid-variant">
            {v}
          </span>
        ))}
      </div>
      <div className="batch-grid-scroll" ref={scroller} data-testid="eval-grid-scroll">
        {count === 0 ? (
          <p className="empty-state">No rows.</p>
        ) : (
          <div className="batch-grid-body" style={{ height: virtualizer.getTotalSize() }}>
            {items.map((item) => (
              <Row key={item.key} marked={pages.row(item.index)} variants={variants} index={item.index} start={item.start} />
            ))}
          </div>
        )}
      </div>
      {pages.error !== null && (
        <p className="banner banner-error" role="alert">
          Rows could not be read: {(pages.error as { message?: string }).message ?? String(pages.error)}{" "}
          <button type="button" className="btn btn-small" onClick={() => pages.want(first, last)}>
            Retry
          </button>
        </p>
      )}
    </div>
  );
}
