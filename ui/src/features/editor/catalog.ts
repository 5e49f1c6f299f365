// The node catalog, generated from the Rust kind specs: the palette, the node components and the
// property panel are all drawn from it, so a new kind or property needs no UI change.
import catalogJson from "../../ipc/generated/nodeKinds.json";
import type { NodeGroup } from "../../ipc/generated/NodeGroup";
import type { NodeKindSpec } from "../../ipc/generated/NodeKindSpec";
import type { PropertySpec } from "../../ipc/generated/PropertySpec";
import type { ValueType } from "../../ipc/generated/ValueType";

export const catalog = catalogJson as NodeKindSpec[];

const byKind = new Map<string, NodeKindSpec>(catalog.map((spec) => [spec.kind, spec]));

export function kindSpec(kind: string): NodeKindSpec | undefined {
  return byKind.get(kind);
}

export function propertySpec(kind: string, key: string): PropertySpec | undefined {
  return byKind.get(kind)?.properties.find((p) => p.key === key);
}

export const groups: { group: NodeGroup; label: string }[] = [
  { group: "inputs_outputs", label: "Inputs / Outputs" },
  { group: "variables", label: "Variables" },
  { group: "ai", label: "AI" },
  { group: "logic", label: "Logic" },
];

/** The stem of a new node's id, short as in the examples: `chat`, `chat_2`… */
export function idStem(kind: string): string {
  return byKind.get(kind)?.id_stem ?? kind;
}

export function kindIcon(kind: string): string {
  return byKind.get(kind)?.icon ?? "•";
}

/** Flow ports (Inputs, Outputs) place the flow's own inputs and outputs on the canvas: one each per flow, never run. */
export function isFlowPort(kind: string): boolean {
  return byKind.get(kind)?.role === "flow_port";
}

/** Nodes the engine runs: every kind but the flow ports. */
export function isRunnable(kind: string): boolean {
  return byKind.get(kind)?.role === "runnable";
}

/**
 * Which of the flow's own lists a flow port's handles are: the Inputs node's outputs are the
 * flow's inputs, the Outputs node's inputs are its outputs. The one place that tells the two apart.
 */
export function flowPortList(kind: string): "inputs" | "outputs" | undefined {
  if (!isFlowPort(kind)) return undefined;
  return kind === "inputs" ? "inputs" : kind === "outputs" ? "outputs" : undefined;
}

/** Whether a value of type `source` may be passed whole into `target` (mirrors Rust's flows_into). */
export function flowsInto(source: ValueType, target: ValueType): boolean {
  return source === target || source === "any" || target === "any" || target === "string";
}

/** The property that holds the names a template sees; it takes many wires through one handle. */
export const VARIABLES = "variables";

/** The outputs node's handle that makes a new flow output from whatever is dropped on it. */
export const NEW_OUTPUT = "__new_output";
