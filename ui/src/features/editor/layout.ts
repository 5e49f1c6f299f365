// Align and auto-layout: both return new positions by canvas id; the store commits them as one step.
import dagre from "@dagrejs/dagre";
import type { Edge } from "@xyflow/react";

import type { CanvasNode } from "./graph";

type Position = { x: number; y: number };
export type AlignMode = "left" | "top" | "center";

const size = (node: CanvasNode) => ({ width: node.measured?.width ?? 220, height: node.measured?.height ?? 100 });

export function alignPositions(nodes: CanvasNode[], mode: AlignMode): Map<string, Position> {
  const moved = new Map<string, Position>();
  if (nodes.length < 2) return moved;
  if (mode === "left") {
    const x = Math.min(...nodes.map((n) => n.position.x));
    for (const n of nodes) moved.set(n.id, { x, y: n.position.y });
  } else if (mode === "top") {
    const y = Math.min(...nodes.map((n) => n.position.y));
    for (const n of nodes) moved.set(n.id, { x: n.position.x, y });
  } else {
    const centre = nodes.reduce((sum, n) => sum + n.position.x + size(n).width / 2, 0) / nodes.length;
    for (const n of nodes) moved.set(n.id, { x: Math.round(centre - size(n).width / 2), y: n.position.y });
  }
  return moved;
}

/** Left-to-right layers by wire, as a reader follows a flow. */
export function layeredPositions(nodes: CanvasNode[], edges: Edge[]): Map<string, Position> {
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: "LR", nodesep: 40, ranksep: 90 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes) graph.setNode(node.id, size(node));
  for (const edge of edges) if (graph.hasNode(edge.source) && graph.hasNode(edge.target)) graph.setEdge(edge.source, edge.target);
  dagre.layout(graph);
  const moved = new Map<string, Position>();
  for (const node of nodes) {
    const placed = graph.node(node.id);
    const { width, height } = size(node);
    moved.set(node.id, { x: Math.round(placed.x - width / 2), y: Math.round(placed.y - height / 2) });
  }
  return moved;
}
