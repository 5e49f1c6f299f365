// What the minimap draws: every node as a rectangle of one SVG path per hundred nodes, and the
// selected ones in a path of their own. One path for the whole flow meant that each change to any
// node (a drop adds one and moves the selection) rebuilt a 1000-rectangle string and made the
// browser parse and paint all of it again; with a path per hundred nodes, a change redraws the
// paths of the nodes it touched and keeps the others' strings, so React leaves their `d` alone.
import type { InternalNode } from "@xyflow/react";

export const NODES_PER_PATH = 100;
/** x, y, width, height and selected (1 or 0) of each node, in the order of the flow's nodes. */
const FIELDS = 5;

export type Rect = { x: number; y: number; width: number; height: number };
type Group = { values: number[]; path: string; box: { x1: number; y1: number; x2: number; y2: number } };
export type MinimapShapes = {
  /** One path per group of nodes, each drawing the group's unselected nodes. */
  paths: string[];
  /** The selected nodes, drawn in the selection colour. */
  selected: string;
  /** Around every node drawn; null with no node. */
  bounds: Rect | null;
  groups: Group[];
};

const rect = (x: number, y: number, width: number, height: number) =>
  `M${Math.round(x)} ${Math.round(y)}h${Math.round(width)}v${Math.round(height)}h${-Math.round(width)}z`;

function group(values: number[]): Group {
  let path = "";
  let [x1, y1, x2, y2] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let i = 0; i < values.length; i += FIELDS) {
    const [x, y, width, height] = [values[i]!, values[i + 1]!, values[i + 2]!, values[i + 3]!];
    if (!values[i + 4]) path += rect(x, y, width, height);
    [x1, y1, x2, y2] = [Math.min(x1, x), Math.min(y1, y), Math.max(x2, x + width), Math.max(y2, y + height)];
  }
  return { values, path, box: { x1, y1, x2, y2 } };
}

function same(a: number[], b: number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The shapes of `nodes`, reusing each group of `previous` whose nodes are where and as they were. */
export function minimapShapes(nodes: Iterable<InternalNode>, previous?: MinimapShapes): MinimapShapes {
  const groups: Group[] = [];
  let values: number[] = [];
  let selected = "";
  const close = () => {
    const old = previous?.groups[groups.length];
    groups.push(old && same(old.values, values) ? old : group(values));
    values = [];
  };
  for (const node of nodes) {
    if (node.hidden) continue;
    const { x, y } = node.internals.positionAbsolute;
    const width = node.measured.width ?? node.width ?? node.initialWidth ?? 0;
    const height = node.measured.height ?? node.height ?? node.initialHeight ?? 0;
    values.push(x, y, width, height, node.selected ? 1 : 0);
    if (node.selected) selected += rect(x, y, width, height);
    if (values.length === NODES_PER_PATH * FIELDS) close();
  }
  if (values.length) close();
  let bounds: Rect | null = null;
  if (groups.length) {
    const x1 = Math.min(...groups.map((g) => g.box.x1));
    const y1 = Math.min(...groups.map((g) => g.box.y1));
    bounds = { x: x1, y: y1, width: Math.max(...groups.map((g) => g.box.x2)) - x1, height: Math.max(...groups.map((g) => g.box.y2)) - y1 };
  }
  return { paths: groups.map((g) => g.path), selected, bounds, groups };
}
