import { beforeEach, describe, expect, it, vi } from "vitest";

import type { BatchOrder } from "../../ipc/batch";
import type { BatchEvent } from "../../ipc/generated/BatchEvent";
import type { BatchSummary } from "../../ipc/generated/BatchSummary";
import type { BatchView } from "../../ipc/generated/BatchView";
import type { DataPreview } from "../../ipc/generated/DataPreview";
import type { FlowDocument } from "../../ipc/generated/FlowDocument";

const preview = vi.fn<(doc: FlowDocument, path: string) => Promise<DataPreview>>();
const start = vi.fn<(order: BatchOrder, onEvent: (e: BatchEvent) => void) => Promise<BatchSummary>>();
const get = vi.fn<(id: string) => Promise<BatchView>>();
vi.mock("../../ipc/batch", () => ({
  batchIpc: {
    preview: (doc: FlowDocument, path: string) => preview(doc, path),
    start: (o: BatchOrder, e: (ev: BatchEvent) => void) => start(o, e),
    get: (id: string) => get(id),
    list: () => Promise.resolve([]),
    cancel: vi.fn(),
  },
  batchDialogs: { openDataPath: () => Promise.resolve("/data/q.csv"), exportPath: vi.fn() },
}));

const { useEditor } = await import("../editor/store");
const { concurrencyOf, filterCount, useBatch } = await import("./store");

const doc: FlowDocument = {
  schema: 1,
  inputs: { question: { type: "string" }, tone: { type: "string", default: "friendly" } },
  nodes: [{ id: "chat", type: "chat_completion", position: { x: 0, y: 0 } }],
};

const data: DataPreview = {
  format: "csv",
  columns: ["Question"],
  rows: [{ row: 0, line: 2, fields: { Question: "Why?" }, error: null }],
  mapping: { question: "${data.Question}" },
};

const summary = (batch_id: string): BatchSummary => ({
  batch_id,
  status: "succeeded",
  total: 1,
  succeeded: 1,
  failed: 0,
  cancelled: 0,
  elapsed_ms: 10,
  rows_per_s: 100,
  throttles: 0,
  prompt_tokens: 1,
  completion_tokens: 1,
  message: null,
});

const progress = (done: number): BatchEvent => ({
  type: "progress",
  done,
  succeeded: done,
  failed: 0,
  cancelled: 0,
  total: 10,
  rows_per_s: 5,
  concurrency: 4,
  in_flight: 2,
  throttles: 0,
  elapsed_ms: 100,
  eta_ms: 1000,
});

beforeEach(() => {
  vi.clearAllMocks();
  useEditor.setState({ document: doc, savedDocument: doc, path: "/flows/ask.weft.yaml" });
  preview.mockResolvedValue(data);
  get.mockImplementation((id) => Promise.resolve({ id } as BatchView));
});

describe("concurrency and counts", () => {
  it("takes auto or a whole number from 1 to 1024", () => {
    expect(concurrencyOf({ mode: "auto" })).toEqual({ ok: true, value: "auto" });
    expect(concurrencyOf({ mode: "fixed", text: " 32 " })).toEqual({ ok: true, value: 32 });
    for (const text of ["0", "1025", "2.5", "", "many"]) expect(concurrencyOf({ mode: "fixed", text }).ok).toBe(false);
  });

  it("counts the rows a filter lists", () => {
    const counts = { succeeded: 5, failed: 2, cancelled: 1 };
    expect([filterCount("all", counts), filterCount("failed", counts), filterCount("cancelled", counts)]).toEqual([8, 2, 1]);
  });
});

describe("a batch from the panel", () => {
  it("sends the saved flow, the mapping as Rust reads it (unmapped inputs left out) and the concurrency", async () => {
    await useBatch.getState().chooseData();
    expect(preview).toHaveBeenCalledWith(doc, "/data/q.csv");
    useBatch.getState().setConcurrency({ mode: "fixed", text: "8" });
    useBatch.getState().setName("  v1 ");
    start.mockImplementation((order) => Promise.resolve(summary(order.batchId)));
    await useBatch.getState().start();
    const [order] = start.mock.calls[0] ?? [];
    expect(order).toMatchObject({
      name: "v1",
      flowPath: "/flows/ask.weft.yaml",
      dataPath: "/data/q.csv",
      mapping: { question: "${data.Question}" },
      concurrency: 8,
      engine: "local",
    });
    expect(get).toHaveBeenCalledWith(order?.batchId);
    expect(useBatch.getState().phase).toBe("idle");
  });

  it("follows the events of its own batch and drops those of an earlier one", async () => {
    await useBatch.getState().chooseData();
    const channels: ((e: BatchEvent) => void)[] = [];
    const finish: (() => void)[] = [];
    start.mockImplementation(
      (order, onEvent) =>
        new Promise((resolve) => {
          channels.push(onEvent);
          finish.push(() => resolve(summary(order.batchId)));
        }),
    );
    const first = useBatch.getState().start();
    await vi.waitFor(() => expect(channels).toHaveLength(1));
    channels[0]?.({ type: "started", batch_id: "a", resumed: false, skipped: 0 });
    channels[0]?.(progress(3));
    channels[0]?.({ type: "throttled", endpoint: "res/gpt", wait_ms: 1500 });
    channels[0]?.({ type: "bad_row", row: 4, line: 6, message: "line 6: not valid JSON (x); fix or remove the line" });
    let s = useBatch.getState();
    expect(s.phase).toBe("running");
    expect(s.progress?.done).toBe(3);
    expect(s.notices.map((n) => n.message)).toEqual([
      "res/gpt asked to slow down; its calls wait 1.5 s",
      "Row 5 (line 6): not valid JSON (x); fix or remove the line",
    ]);
    finish[0]?.();
    await first;

    const second = useBatch.getState().start();
    await vi.waitFor(() => expect(channels).toHaveLength(2));
    channels[0]?.(progress(9));
    expect(useBatch.getState().progress).toBeNull();
    channels[1]?.(progress(1));
    s = useBatch.getState();
    expect(s.progress?.done).toBe(1);
    expect(s.notices).toEqual([]);
    finish[1]?.();
    await second;
  });

  it("waits for a saved flow: nothing starts while the editor's flow has unsaved changes", async () => {
    await useBatch.getState().chooseData();
    useEditor.setState({ document: { ...doc, title: "edited" } });
    await useBatch.getState().start();
    expect(start).not.toHaveBeenCalled();
  });
});
