import type { InternalNode, ReactFlowState } from "@xyflow/react";
import { adoptUserNodes } from "@xyflow/system";
import { describe, expect, it } from "vitest";

import type { FlowDocument } from "../../ipc/generated/FlowDocument";
import { type CanvasNode, measuredNode, toCanvasNode, toNoteNode } from "../editor/graph";
import { skipKnownMeasurements } from "./measure";

const doc: FlowDocument = {
  schema: 1,
  title: "Test",
  nodes: [
    { id: "prompt", type: "prompt_template", position: { x: 0, y: 0 }, properties: { template: "Hi" } },
    { id: "chat", type: "chat_completion", position: { x: 300, y: 0 } },
  ],
};

/** React Flow's node lookup for the editor's canvas nodes, as `setNodes` builds it. */
function lookup(nodes: CanvasNode[]): Map<string, InternalNode> {
  const nodeLookup = new Map<string, InternalNode>();
  adoptUserNodes(nodes, nodeLookup, new Map());
  return nodeLookup;
}

/** A store whose own `updateNodeInternals` records the node ids React Flow would measure. */
function store(nodes: CanvasNode[], fitViewQueued = false) {
  const measuredIds: string[][] = [];
  let state = {
    nodeLookup: lookup(nodes),
    fitViewQueued,
    updateNodeInternals: (updates: Map<string, unknown>) => void measuredIds.push([...updates.keys()]),
  } as unknown as ReactFlowState;
  const api = { getState: () => state, setState: (partial: Partial<ReactFlowState>) => void (state = { ...state, ...partial }) };
  return { api, measuredIds };
}

/** What React Flow's ResizeObserver reports for mounted nodes: each with its element's size. */
function mounted(sizes: Record<string, { width: number; height: number }>) {
  return new Map(Object.entries(sizes).map(([id, { width, height }]) => [id, { id, nodeElement: { offsetWidth: width, offsetHeight: height } as HTMLDivElement, force: true }]));
}

const cards = () => doc.nodes.map((n) => toCanvasNode(n, doc));
const sizeOf = (node: CanvasNode) => ({ width: node.measured!.width!, height: node.measured!.height! });

describe("measuring mounted nodes", () => {
  it("does not measure a card again when the DOM shows it at the size it was given", () => {
    const [prompt, chat] = cards();
    const { api, measuredIds } = store([prompt!, chat!]);
    skipKnownMeasurements(api);
    api.getState().updateNodeInternals(mounted({ prompt: sizeOf(prompt!), chat: sizeOf(chat!) }));
    expect(measuredIds).toEqual([]);
  });

  it("measures a card the DOM shows at another size, and only that one", () => {
    const [prompt, chat] = cards();
    const { api, measuredIds } = store([prompt!, chat!]);
    skipKnownMeasurements(api);
    const taller = { ...sizeOf(chat!), height: sizeOf(chat!).height + 19 };
    api.getState().updateNodeInternals(mounted({ prompt: sizeOf(prompt!), chat: taller }));
    expect(measuredIds).toEqual([["chat"]]);
  });

  it("measures a node whose size the DOM already overruled, and a note whose wrapped text is taller than estimated", () => {
    const [prompt] = cards();
    const note = toNoteNode({ id: "n1", text: "A note", position: { x: 0, y: 300 } });
    const overruled = measuredNode(prompt!);
    const { api, measuredIds } = store([overruled, note]);
    skipKnownMeasurements(api);
    api.getState().updateNodeInternals(mounted({ prompt: sizeOf(overruled) }));
    api.getState().updateNodeInternals(mounted({ "note:n1": { ...sizeOf(note), height: sizeOf(note).height + 40 } }));
    expect(measuredIds).toEqual([["prompt"], ["note:n1"]]);
  });

  it("measures everything while a fitView waits for a measurement", () => {
    const [prompt] = cards();
    const { api, measuredIds } = store([prompt!], true);
    skipKnownMeasurements(api);
    api.getState().updateNodeInternals(mounted({ prompt: sizeOf(prompt!) }));
    expect(measuredIds).toEqual([["prompt"]]);
  });

  it("wraps the store's action once however often the canvas renders", () => {
    const [prompt, chat] = cards();
    const { api, measuredIds } = store([prompt!, chat!]);
    skipKnownMeasurements(api);
    const wrapped = api.getState().updateNodeInternals;
    skipKnownMeasurements(api);
    expect(api.getState().updateNodeInternals).toBe(wrapped);
    api.getState().updateNodeInternals(mounted({ chat: { ...sizeOf(chat!), width: 300 } }));
    expect(measuredIds).toEqual([["chat"]]);
  });
});
