// Completions in templates and expressions, read from the flow being edited: `${…}` references
// (flow inputs, variables, node outputs) anywhere, and inside `{{ }}`/`{% %}` (or anywhere in an
// expression) the names of the node's Template variables, which is what Jinja can read there.
import type { Completion, CompletionContext, CompletionResult } from "@codemirror/autocomplete";

import type { FlowDocument } from "../../../ipc/generated/FlowDocument";
import { VARIABLES, kindSpec } from "../../editor/catalog";

export function referenceOptions(doc: FlowDocument, self: string): Completion[] {
  const options: Completion[] = [];
  for (const [name, input] of Object.entries(doc.inputs ?? {})) options.push({ label: `\${inputs.${name}}`, detail: `input · ${input.type}` });
  for (const node of doc.nodes) {
    if (node.type === "declare_variable" && typeof node.properties?.name === "string") options.push({ label: `\${vars.${node.properties.name}}`, detail: "variable" });
    if (node.id === self) continue;
    for (const output of kindSpec(node.type)?.outputs ?? []) options.push({ label: `\${${node.id}.${output.port}}`, detail: output.value_type });
  }
  return options;
}

/** The names a node's Jinja sees: the keys of its Template variables. */
export function variableOptions(doc: FlowDocument, self: string): Completion[] {
  const variables = doc.nodes.find((n) => n.id === self)?.properties?.[VARIABLES];
  if (!variables || typeof variables !== "object" || Array.isArray(variables)) return [];
  return Object.keys(variables).map((name) => ({ label: name, type: "variable", detail: "template variable" }));
}

/** Whether `before` (the text up to the cursor) ends inside an open `{{ … ` or `{% … `. */
export function insideJinja(before: string): boolean {
  const open = Math.max(before.lastIndexOf("{{"), before.lastIndexOf("{%"));
  if (open < 0) return false;
  const close = Math.max(before.lastIndexOf("}}"), before.lastIndexOf("%}"));
  return close < open;
}

export function completions(readDocument: () => FlowDocument, self: string, mode: "template" | "expression") {
  return (context: CompletionContext): CompletionResult | null => {
    const reference = context.matchBefore(/\$\{[\w.-]*/);
    if (reference) return { from: reference.from, options: referenceOptions(readDocument(), self), validFor: /^\$\{[\w.-]*$/ };
    const word = context.matchBefore(/\w*/);
    if (!word) return null;
    const before = context.state.sliceDoc(0, word.from);
    // Offer names as soon as a `{{ ` is opened; elsewhere only once a name is begun (or asked for).
    if (word.from === word.to && !context.explicit && !/\{[{%]\s*$/.test(before)) return null;
    if (mode === "template" && !insideJinja(before)) return null;
    const options = variableOptions(readDocument(), self);
    return options.length ? { from: word.from, options, validFor: /^\w*$/ } : null;
  };
}
