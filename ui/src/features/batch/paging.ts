// The results grid never holds a batch's rows: it shows a window of them, and this cache fetches
// the pages that window touches (`batch_rows` with an offset and a limit), keeps a bounded number
// of them, and forgets the ones farthest from view. Scrolling fast through 100,000 rows asks only
// for the pages where the scroll comes to rest: at most `MAX_IN_FLIGHT` requests run, and when
// one returns the next is chosen from the range wanted *now*, not from every range passed.

export type FetchPage<T> = (offset: number, limit: number) => Promise<T[]>;

export const PAGE_SIZE = 100;
const MAX_PAGES = 24;
const MAX_IN_FLIGHT = 2;

type Page<T> = { rows: T[]; generation: number };

export class RowPages<T> {
  private readonly pages = new Map<number, Page<T>>();
  private readonly inFlight = new Set<number>();
  private generation = 0;
  private wanted: { first: number; last: number } | null = null;
  private listeners = new Set<() => void>();
  private closed = false;
  /** Bumped whenever a page arrives, for React's useSyncExternalStore. */
  version = 0;
  /** The last fetch that failed, until one succeeds. */
  error: unknown = null;

  constructor(
    private readonly fetchPage: FetchPage<T>,
    private readonly pageSize = PAGE_SIZE,
    private readonly maxPages = MAX_PAGES,
  ) {}

  /** The row at this index among the filter's rows, if its page is here (stale or not). */
  row(index: number): T | undefined {
    return this.pages.get(Math.floor(index / this.pageSize))?.rows[index % this.pageSize];
  }

  /** The rows `first..=last` are in view: fetch the pages among them that are missing or stale. */
  want(first: number, last: number): void {
    if (last < first) return;
    this.wanted = { first, last };
    this.pump();
  }

  /** The rows changed underneath (a batch in progress): pages stay shown until their fresh copy arrives. */
  invalidate(): void {
    this.generation++;
    this.pump();
  }

  /** How many pages are held (the test of boundedness reads it). */
  get size(): number {
    return this.pages.size;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Later answers are dropped: the grid moved to another batch or filter. */
  close(): void {
    this.closed = true;
    this.listeners.clear();
  }

  private needed(): number[] {
    if (!this.wanted) return [];
    const out: number[] = [];
    const from = Math.floor(this.wanted.first / this.pageSize);
    const to = Math.floor(this.wanted.last / this.pageSize);
    for (let page = from; page <= to; page++) {
      const held = this.pages.get(page);
      if ((!held || held.generation < this.generation) && !this.inFlight.has(page)) out.push(page);
    }
    return out;
  }

  private pump(): void {
    if (this.closed) return;
    for (const page of this.needed()) {
      if (this.inFlight.size >= MAX_IN_FLIGHT) return;
      void this.load(page);
    }
  }

  private async load(page: number): Promise<void> {
    const generation = this.generation;
    this.inFlight.add(page);
    try {
      const rows = await this.fetchPage(page * this.pageSize, this.pageSize);
      if (this.closed) return;
      this.pages.set(page, { rows, generation });
      this.error = null;
      this.evict();
    } catch (err) {
      if (this.closed) return;
      this.error = err;
      // Not retried at once: the next scroll or invalidation asks again.
      this.wanted = null;
    } finally {
      this.inFlight.delete(page);
    }
    this.version++;
    for (const listener of this.listeners) listener();
    this.pump();
  }

  /** Drops the pages farthest from the range in view beyond the bound. */
  private evict(): void {
    if (this.pages.size <= this.maxPages || !this.wanted) return;
    const centre = (this.wanted.first + this.wanted.last) / 2 / this.pageSize;
    const byDistance = [...this.pages.keys()].sort((a, b) => Math.abs(b - centre) - Math.abs(a - centre));
    for (const page of byDistance.slice(0, this.pages.size - this.maxPages)) this.pages.delete(page);
  }
}
