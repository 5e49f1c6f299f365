// The node catalog, generated from the Rust kind specs: the palette, the node components and the
// property panel are all drawn from it, so a new kind or property needs no UI change.
import catalogJson from "../../ipc/generated/nodeKinds.json";
import type { NodeGroup } from "../../ipc/generated/NodeGroup";
import type { NodeKind } from "../../ipc/generated/NodeKind";
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

/** One glyph per kind; everything else about a kind comes from the catalog. */
export const kindIcons: Record<NodeKind, string> = {
  inputs: "⇥",
  outputs: "⇤",
  declare_variable: "𝑥",
  set_variable: "≔",
  prompt_template: "¶",
  chat_completion: "✦",
  create_azure_ai_connection: "⇄",
  embeddings: "⋮",
  condition: "◇",
};

/** The stem of a new node's id, short as in the examples: `chat`, `chat_2`… */
const idStems: Partial<Record<NodeKind, string>> = {
  chat_completion: "chat",
  prompt_template: "prompt",
  declare_variable: "declare",
  set_variable: "set",
  create_azure_ai_connection: "connect",
  embeddings: "embed",
};

export function idStem(kind: string): string {
  return idStems[kind as NodeKind] ?? kind;
}

export function kindIcon(kind: string): string {
  return kindIcons[kind as NodeKind] ?? "•";
}

/** Whether a value of type `source` may be passed whole into `target` (mirrors Rust's flows_into). */
export function flowsInto(source: ValueType, target: ValueType): boolean {
  return source === target || source === "any" || target === "any" || target === "string";
}

/** Flow-level nodes: they place the flow's inputs and outputs on the canvas and have one instance each. */
export const SINGLETON_KINDS = new Set<string>(["inputs", "outputs"]);

/** The property that holds the names a template sees; it takes many wires through one handle. */
export const VARIABLES = "variables";

/** The outputs node's handle that makes a new flow output from whatever is dropped on it. */
export const NEW_OUTPUT = "__new_output";
