// What a node card shows, and the size and handle positions that follow from it. The card draws
// from `cardLayout`; the canvas gives React Flow `cardGeometry` up front, so a node that is never on
// screen needs no mounting to be measured (opening a 1000-node flow mounts only what is visible).
// The numbers mirror `.fnode` in nodes.css (beside this file), whose rows have fixed heights; a
// browser test compares this estimate with what React Flow measures in the DOM, so a CSS change
// cannot drift silently.
import type { NodeHandle } from "@xyflow/react";
import { Position } from "@xyflow/react";

import type { FlowDocument } from "../../../ipc/generated/FlowDocument";
import type { Node as FlowNode } from "../../../ipc/generated/Node";
import type { ValueType } from "../../../ipc/generated/ValueType";
import type { JsonValue } from "../../../ipc/generated/serde_json/JsonValue";
import { NEW_OUTPUT, VARIABLES, flowPortList, kindSpec } from "../catalog";
import { findReferences, mapStrings } from "../references";

export type CardPort = { id: string; label: string; type: ValueType | "new"; required?: boolean };
export type CardLayout = {
  /** Property keys worth reading on the card itself. */
  summary: string[];
  /** Target handles (left): the node's properties, or the flow's outputs on the outputs node. */
  inputs: CardPort[];
  /** Source handles (right): the node's outputs, or the flow's inputs on the inputs node. */
  outputs: CardPort[];
  /**
   * The row under the inputs that shows or folds the optional properties nothing is wired into
   * (`hidden` of them); null when the kind has none.
   */
  fold: { hidden: number; open: boolean } | null;
};

const SUMMARY_ROWS = 3;

/** Whether a value reads another node's output or a flow input, i.e. a wire goes into it. */
function isWired(value: JsonValue | undefined): boolean {
  let wired = false;
  if (value !== undefined)
    mapStrings(value, (text) => {
      wired ||= findReferences(text).some((ref) => ref.source.kind !== "var");
      return text;
    });
  return wired;
}

/**
 * What the card shows. As node editors do, a property port that is optional and unwired is folded
 * away unless `showAll`: a Chat completion has 13 properties, and most nodes wire two or three.
 * Required ports, wired ones and Template variables (the port that takes many wires) stay.
 */
export function cardLayout(node: FlowNode, ports: FlowDocument["inputs"] | FlowDocument["outputs"] | undefined, showAll = false): CardLayout {
  const spec = kindSpec(node.type);
  const properties = node.properties ?? {};
  const summary = (spec?.summary ?? []).filter((key) => properties[key] !== undefined && properties[key] !== "").slice(0, SUMMARY_ROWS);
  const inputs: CardPort[] = [];
  const outputs: CardPort[] = [];
  const list = flowPortList(node.type);
  if (list === "outputs") {
    for (const name of Object.keys(ports ?? {})) inputs.push({ id: name, label: name, type: "any" });
    inputs.push({ id: NEW_OUTPUT, label: "+ new output", type: "new" });
  }
  if (list === "inputs") {
    for (const [name, input] of Object.entries((ports ?? {}) as NonNullable<FlowDocument["inputs"]>)) outputs.push({ id: name, label: name, type: input.type });
  }
  let hidden = 0;
  for (const p of spec?.properties ?? []) {
    if (!p.required && p.key !== VARIABLES && !isWired(properties[p.key])) {
      hidden += 1;
      if (!showAll) continue;
    }
    inputs.push(p.key === VARIABLES ? { id: p.key, label: `${p.label} …`, type: "any" } : { id: p.key, label: p.label, type: p.value_type, required: p.required });
  }
  for (const o of spec?.outputs ?? []) outputs.push({ id: o.port, label: o.port, type: o.value_type });
  return { summary, inputs, outputs, fold: hidden ? { hidden, open: showAll } : null };
}

// nodes.css `.fnode` and its rows, in CSS pixels.
export const CARD_WIDTH = 240;
const BORDER = 1;
const HEAD = 6 + 22 + 2; // padding, the 22 px icon, padding
const SUB = 16 + 4; // one 16 px line, padding
const SUMMARY_CHROME = 1 + 4 + 4; // border-top, padding
const LINE = 16;
const PORTS_TOP = 1 + 4; // border-top, padding
const PORTS_BOTTOM = 6;
const PORT = 18;
const HANDLE = 9;

export type CardGeometry = { width: number; height: number; handles: NodeHandle[] };

export function cardGeometry(layout: CardLayout): CardGeometry {
  const summary = layout.summary.length ? SUMMARY_CHROME + LINE * layout.summary.length : 0;
  const portsTop = BORDER + HEAD + SUB + summary + PORTS_TOP;
  // The fold row sits under the input ports, a port row's height.
  const rows = Math.max(layout.inputs.length + (layout.fold ? 1 : 0), layout.outputs.length);
  const height = portsTop + rows * PORT + PORTS_BOTTOM + BORDER;
  // React Flow stores a handle's box as the DOM reports it: the connection handle is turned 45°,
  // so its bounding box is wider than the 9 px square.
  const handle = (port: CardPort, index: number, type: "source" | "target"): NodeHandle => {
    const box = port.type === "connection" ? HANDLE * Math.SQRT2 : HANDLE;
    const centreX = type === "target" ? BORDER : CARD_WIDTH - BORDER;
    const centreY = portsTop + index * PORT + PORT / 2;
    return {
      id: port.id,
      type,
      position: type === "target" ? Position.Left : Position.Right,
      x: centreX - box / 2,
      y: centreY - box / 2,
      width: HANDLE,
      height: HANDLE,
    };
  };
  return {
    width: CARD_WIDTH,
    height,
    handles: [...layout.inputs.map((p, i) => handle(p, i, "target")), ...layout.outputs.map((p, i) => handle(p, i, "source"))],
  };
}
