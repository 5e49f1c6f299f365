// A batch's rows, virtualised: only the rows in view (and a few either side) are in the DOM, and
// only the pages they fall on are fetched (paging.ts), so 100,000 rows scroll like 100.
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useMemo, useRef, useSyncExternalStore } from "react";

import { batchIpc } from "../../ipc/batch";
import type { BatchRowView } from "../../ipc/generated/BatchRowView";
import type { RowFilter } from "../../ipc/generated/RowFilter";
import { formatMs } from "../run/format";
import { RowPages } from "./paging";

export const ROW_HEIGHT = 30;
/** While a batch runs its rows change underneath: what is in view is fetched again this often at most. */
const LIVE_REFRESH_MS = 300;

/** A value on one line, cut short: the row view shows it whole. */
function brief(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "object" && !Array.isArray(value)) {
    const entries = Object.entries(value);
    if (entries.length === 1) return brief(entries[0]?.[1]);
  }
  return JSON.stringify(value);
}

function Row({ row, index, start, selected, onOpen }: { row: BatchRowView | undefined; index: number; start: number; selected: boolean; onOpen: (row: number) => void }) {
  const style = { transform: `translateY(${start}px)`, height: ROW_HEIGHT };
  if (!row)
    return (
      <div className="batch-grid-row batch-grid-loading" role="row" aria-rowindex={index + 2} style={style} data-testid="batch-grid-row">
        <span role="gridcell" className="muted">
          …
        </span>
      </div>
    );
  return (
    <div
      className="batch-grid-row"
      role="row"
      aria-rowindex={index + 2}
      aria-selected={selected}
      style={style}
      data-testid="batch-grid-row"
      data-row={row.row}
      data-status={row.status}
      onClick={() => onOpen(row.row)}
    >
      <span role="gridcell" className="batch-num">
        <button type="button" className="batch-row-open" aria-label={`Open row ${row.row + 1}`} onClick={(e) => (e.stopPropagation(), onOpen(row.row))}>
          {row.row + 1}
        </button>
      </span>
      <span role="gridcell">
        <span className={`run-dot run-dot-${row.status}`} aria-hidden /> {row.status}
      </span>
      <span role="gridcell" className="batch-cell" title={brief(row.inputs)}>
        {brief(row.inputs)}
      </span>
      <span role="gridcell" className="batch-cell" title={row.error ?? brief(row.outputs)}>
        {row.error ? <span className="batch-error">{row.error}</span> : brief(row.outputs)}
      </span>
      <span role="gridcell" className="batch-num">
        {formatMs(row.latency_ms)}
      </span>
      <span role="gridcell" className="batch-num">
        {(row.prompt_tokens + row.completion_tokens).toLocaleString("en-US")}
      </span>
    </div>
  );
}

export function BatchGrid({
  batchId,
  filter,
  count,
  live,
  selected,
  onOpen,
}: {
  batchId: string;
  filter: RowFilter;
  /** Rows the filter lists now. */
  count: number;
  /** The batch is running: rows are being added. */
  live: boolean;
  selected: number | null;
  onOpen: (row: number) => void;
}) {
  const pages = useMemo(() => new RowPages<BatchRowView>((offset, limit) => batchIpc.rows(batchId, filter, offset, limit)), [batchId, filter]);
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

  // Rows arrive while the batch runs (and their order among the filter's rows shifts): refetch
  // the pages in view when the count changes, at most every LIVE_REFRESH_MS, and once at the end.
  const lastRefresh = useRef(0);
  useEffect(() => {
    const wait = lastRefresh.current + LIVE_REFRESH_MS - Date.now();
    const timer = setTimeout(
      () => {
        lastRefresh.current = Date.now();
        pages.invalidate();
      },
      Math.max(0, wait),
    );
    return () => clearTimeout(timer);
  }, [pages, count, live]);

  return (
    <div className="batch-grid" role="grid" aria-label="Rows of the batch" aria-rowcount={count + 1} data-testid="batch-grid">
      <div className="batch-grid-row batch-grid-head" role="row" aria-rowindex={1}>
        <span role="columnheader" className="batch-num">
          Row
        </span>
        <span role="columnheader">Status</span>
        <span role="columnheader">Inputs</span>
        <span role="columnheader">Outputs or error</span>
        <span role="columnheader" className="batch-num">
          Latency
        </span>
        <span role="columnheader" className="batch-num">
          Tokens
        </span>
      </div>
      <div className="batch-grid-scroll" ref={scroller} data-testid="batch-grid-scroll">
        {count === 0 ? (
          <p className="empty-state">{live ? "Rows show here as they finish." : "No rows."}</p>
        ) : (
          <div className="batch-grid-body" style={{ height: virtualizer.getTotalSize() }}>
            {items.map((item) => (
              <Row key={item.key} row={pages.row(item.index)} index={item.index} start={item.start} selected={pages.row(item.index)?.row === selected} onOpen={onOpen} />
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
