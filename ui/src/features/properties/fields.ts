// The property form of a node, generated from its kind's property specs: one field per spec, with
// the value to show, and the validator's messages for that property.
import type { ConnectionType } from "../../ipc/generated/ConnectionType";
import type { ConnectionView } from "../../ipc/generated/ConnectionView";
import type { Diagnostic } from "../../ipc/generated/Diagnostic";
import type { FlowDocument } from "../../ipc/generated/FlowDocument";
import type { Node as FlowNode } from "../../ipc/generated/Node";
import type { PropertySpec } from "../../ipc/generated/PropertySpec";
import type { JsonValue } from "../../ipc/generated/serde_json/JsonValue";
import { flowsInto, kindSpec } from "../editor/catalog";
import { referenceTo } from "../editor/references";

/** `accepts`: the connection types a connection picker offers (null: any type). */
export type Field = { spec: PropertySpec; value: JsonValue | undefined; problems: Diagnostic[]; accepts: ConnectionType[] | null };

export function fieldsFor(node: FlowNode, diagnostics: Diagnostic[]): Field[] {
  const spec = kindSpec(node.type);
  if (!spec) return [];
  return spec.properties.map((property) => ({
    spec: property,
    value: node.properties?.[property.key],
    problems: diagnostics.filter((d) => d.node === node.id && d.property === property.key),
    accepts: property.editor.type === "connection" ? property.editor.types : null,
  }));
}

/** The saved connections a picker lists: those of a type the property takes. */
export function connectionChoices(connections: ConnectionView[], accepts: ConnectionType[] | null): ConnectionView[] {
  return accepts ? connections.filter((c) => accepts.includes(c.type)) : connections;
}

/**
 * What the picker says under a value naming a saved connection of another type (the validator's
 * diagnostic says it too), with the types' labels: "needs an Azure AI Content Safety connection".
 */
export function wrongTypeMessage(connection: ConnectionView, accepts: ConnectionType[], labels: Map<string, string>): string {
  const label = (type: string) => labels.get(type) ?? type;
  const names = accepts.map(label);
  const needs = names.length > 1 ? `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}` : (names[0] ?? "");
  const article = (text: string) => (/^[aeiou]/i.test(text) ? "an" : "a");
  return `\`${connection.name}\` is ${article(label(connection.type))} ${label(connection.type)} connection; this node needs ${article(needs)} ${needs} connection`;
}

/** Messages about the node as a whole, or about properties the form does not show. */
export function nodeProblems(node: FlowNode, diagnostics: Diagnostic[]): Diagnostic[] {
  const keys = new Set(kindSpec(node.type)?.properties.map((p) => p.key));
  return diagnostics.filter((d) => d.node === node.id && (d.property === null || !keys.has(d.property)));
}

/** The text a one-line field shows for a value (references and literals alike). */
export function asText(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** What a variable picker offers: declared variables, and node outputs that fit the property. */
export function referenceChoices(doc: FlowDocument, self: string, property: PropertySpec): { value: string; label: string }[] {
  const choices: { value: string; label: string }[] = [];
  for (const node of doc.nodes) {
    if (node.type === "declare_variable" && typeof node.properties?.name === "string" && node.properties.name) {
      choices.push({ value: `\${vars.${node.properties.name}}`, label: `vars.${node.properties.name} (variable)` });
    }
  }
  for (const node of doc.nodes) {
    if (node.id === self) continue;
    for (const output of kindSpec(node.type)?.outputs ?? []) {
      if (output.value_type === "any" && property.value_type !== "any") continue;
      if (flowsInto(output.value_type, property.value_type) && property.value_type !== "string")
        choices.push({ value: referenceTo(node.id, output.port), label: `${node.id}.${output.port} (${output.value_type})` });
    }
  }
  return choices;
}
