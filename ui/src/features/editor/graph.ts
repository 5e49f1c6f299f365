// The canvas view of a flow document. The file has no edge list (ADR 3): every `${node.port}`
// reference in a property is drawn as a wire, and drawing a wire writes the reference. Everything
// here is pure, so the store can derive the canvas from the document and tests can check both ways.
import type { Connection, Edge, Node as RfNode } from "@xyflow/react";

import type { FlowDocument } from "../../ipc/generated/FlowDocument";
import type { Node as FlowNode } from "../../ipc/generated/Node";
import type { Note } from "../../ipc/generated/Note";
import type { ValueType } from "../../ipc/generated/ValueType";
import type { JsonValue } from "../../ipc/generated/serde_json/JsonValue";
import { NEW_OUTPUT, VARIABLES, flowPortList, flowsInto, isFlowPort, kindSpec, propertySpec } from "./catalog";
import { cardGeometry, cardLayout } from "./nodes/card";
import { findReferences, mapStrings, referenceTo, renameReferences, uniqueId } from "./references";

export type FlowNodeData = {
  node: FlowNode;
  /** Only on the flow ports (the Inputs and Outputs nodes), whose handles are the flow's inputs/outputs. */
  ports?: FlowDocument["inputs"] | FlowDocument["outputs"];
  /** The card shows its folded ports: the user opened them, or a wire being dragged is over it. */
  showAll?: ShowAll;
};
export type ShowAll = "user" | "wire";
export type NoteData = { note: Note };
export type FlowCanvasNode = RfNode<FlowNodeData>;
export type NoteCanvasNode = RfNode<NoteData, "note">;
export type CanvasNode = FlowCanvasNode | NoteCanvasNode;

/** Where a wire's reference lives, so deleting the wire can remove exactly it. */
export type WireData = { property: string; entry?: string };
export type Wire = Edge<WireData>;

export const NOTE_PREFIX = "note:";

export function isNoteNode(node: CanvasNode): node is NoteCanvasNode {
  return node.type === "note";
}

/** The flow's inputs or outputs, which are the handles of the Inputs or Outputs node; else none. */
export function flowPorts(node: FlowNode, doc: FlowDocument): FlowNodeData["ports"] {
  const list = flowPortList(node.type);
  return list && doc[list];
}

/**
 * A canvas node with its size and handles estimated from the card's layout (a browser test checks
 * the estimate against the DOM for every kind). React Flow takes them as measured, so it never
 * mounts an off-screen node just to measure it, and a node that mounts (it comes on screen) needs
 * no size change sent back through the store, nor a measurement (`canvas/measure.ts`). If the DOM
 * disagrees on its size, React Flow measures it, handles included, and the store drops the estimate
 * (`measuredNode`).
 */
export function toCanvasNode(node: FlowNode, doc: FlowDocument, showAll?: ShowAll): FlowCanvasNode {
  const ports = flowPorts(node, doc);
  const { width, height, handles } = cardGeometry(cardLayout(node, ports, showAll !== undefined));
  const data: FlowNodeData = { node, ...(ports ? { ports } : {}), ...(showAll ? { showAll } : {}) };
  return { id: node.id, type: node.type, position: node.position, data, measured: { width, height }, handles };
}

const NOTE_WIDTH = 160;
const NOTE_LINE = 19;
const NOTE_CHROME = 18;

export function toNoteNode(note: Note): NoteCanvasNode {
  // Notes wrap their text, so this height is rough; the DOM corrects it once the note is on screen.
  const lines = Math.max(2, Math.ceil(note.text.length / 24) + (note.text.match(/\n/g)?.length ?? 0));
  return {
    id: NOTE_PREFIX + note.id,
    type: "note",
    position: note.position,
    data: { note },
    ...(note.width ? { width: note.width } : {}),
    measured: { width: note.width ?? NOTE_WIDTH, height: NOTE_CHROME + lines * NOTE_LINE },
    handles: [],
  };
}

/** Whether the node's size is the DOM's rather than the estimate. */
export function isDomMeasured(node: CanvasNode): boolean {
  return node.handles === undefined;
}

/** The node once the DOM has measured a size other than the estimate: React Flow keeps the handles it read from the DOM. */
export function measuredNode<N extends CanvasNode>(node: N): N {
  if (isDomMeasured(node)) return node;
  const { handles: _estimated, ...rest } = node;
  void _estimated;
  return rest as N;
}

export function documentToGraph(doc: FlowDocument): { nodes: CanvasNode[]; edges: Wire[] } {
  const nodes: CanvasNode[] = doc.nodes.map((node) => toCanvasNode(node, doc));
  for (const note of doc.notes ?? []) nodes.push(toNoteNode(note));
  return { nodes, edges: documentEdges(doc) };
}

/** The document the canvas shows: its nodes and notes in canvas order, at their canvas positions. */
export function graphToDocument(base: FlowDocument, nodes: CanvasNode[]): FlowDocument {
  const flowNodes: FlowNode[] = [];
  const notes: Note[] = [];
  for (const node of nodes) {
    if (isNoteNode(node)) notes.push({ ...node.data.note, position: node.position });
    else flowNodes.push({ ...node.data.node, position: node.position });
  }
  const { notes: _unused, ...rest } = base;
  void _unused;
  return { ...rest, nodes: flowNodes, ...(notes.length || base.notes ? { notes } : {}) };
}

/** The id of the node that places the flow's inputs (or outputs), if the flow has one. */
export function flowPortId(doc: FlowDocument, list: "inputs" | "outputs"): string | undefined {
  return doc.nodes.find((n) => flowPortList(n.type) === list)?.id;
}

const isInputsNode = (node: FlowNode) => flowPortList(node.type) === "inputs";
const isOutputsNode = (node: FlowNode) => flowPortList(node.type) === "outputs";

const wireId = (source: string, sourceHandle: string, target: string, targetHandle: string, entry?: string) =>
  `${source}.${sourceHandle}>${target}.${targetHandle}${entry === undefined ? "" : `.${entry}`}`;

/** Every reference in one node's properties as a wire; whether its source exists is checked later. */
function nodeEdges(node: FlowNode, inputsId: string | undefined): Wire[] {
  const edges: Wire[] = [];
  const seen = new Set<string>();
  const add = (text: string, property: string, entry?: string) => {
    for (const ref of findReferences(text)) {
      let source: string;
      let handle: string;
      if (ref.source.kind === "input") {
        if (!inputsId) continue;
        [source, handle] = [inputsId, ref.source.name];
      } else if (ref.source.kind === "node") [source, handle] = [ref.source.id, ref.source.port];
      else continue;
      const id = wireId(source, handle, node.id, property, entry);
      if (seen.has(id)) continue;
      seen.add(id);
      edges.push({ id, type: "wire", source, sourceHandle: handle, target: node.id, targetHandle: property, data: entry === undefined ? { property } : { property, entry } });
    }
  };
  for (const [key, value] of Object.entries(node.properties ?? {})) {
    if (!propertySpec(node.type, key)) continue;
    if (key === VARIABLES && value && typeof value === "object" && !Array.isArray(value)) {
      for (const [entry, item] of Object.entries(value)) mapStrings(item, (text) => (add(text, VARIABLES, entry), text));
    } else mapStrings(value, (text) => (add(text, key), text));
  }
  return edges;
}

// A node's wires depend only on that (immutable) node and the inputs node's id, so unchanged nodes
// keep their wire objects and React Flow redraws only what an edit touched.
const edgeCache = new WeakMap<FlowNode, { inputsId: string | undefined; edges: Wire[] }>();

function hasSourceHandle(doc: FlowDocument, node: FlowNode | undefined, handle: string): boolean {
  if (!node) return false;
  if (isInputsNode(node)) return doc.inputs?.[handle] !== undefined;
  return kindSpec(node.type)?.outputs.some((o) => o.port === handle) ?? false;
}

export function documentEdges(doc: FlowDocument): Wire[] {
  // One pass for the lookup and the flow ports' ids: this runs on every edit.
  const nodes = new Map<string, FlowNode>();
  let inputsId: string | undefined;
  let outputsId: string | undefined;
  for (const node of doc.nodes) {
    nodes.set(node.id, node);
    const list = flowPortList(node.type);
    if (list === "inputs") inputsId ??= node.id;
    else if (list === "outputs") outputsId ??= node.id;
  }
  const edges: Wire[] = [];
  for (const node of doc.nodes) {
    let cached = edgeCache.get(node);
    if (!cached || cached.inputsId !== inputsId) {
      cached = { inputsId, edges: nodeEdges(node, inputsId) };
      edgeCache.set(node, cached);
    }
    for (const edge of cached.edges) if (hasSourceHandle(doc, nodes.get(edge.source), edge.sourceHandle!)) edges.push(edge);
  }
  if (outputsId) {
    for (const [name, output] of Object.entries(doc.outputs ?? {})) {
      const ref = findReferences(output.value)[0];
      if (!ref) continue;
      let source: string | undefined;
      let handle: string;
      if (ref.source.kind === "node") [source, handle] = [ref.source.id, ref.source.port];
      else if (ref.source.kind === "input") [source, handle] = [inputsId, ref.source.name];
      else continue;
      if (!source || !hasSourceHandle(doc, nodes.get(source), handle)) continue;
      edges.push({ id: wireId(source, handle, outputsId, name), type: "wire", source, sourceHandle: handle, target: outputsId, targetHandle: name, data: { property: name } });
    }
  }
  return edges;
}

function findNode(doc: FlowDocument, id: string): FlowNode | undefined {
  return doc.nodes.find((n) => n.id === id);
}

/** The type a source handle gives: a flow input's type, or the kind's output port type. */
export function sourceType(doc: FlowDocument, nodeId: string, handle: string): ValueType | undefined {
  const node = findNode(doc, nodeId);
  if (!node) return undefined;
  if (isInputsNode(node)) return doc.inputs?.[handle]?.type;
  return kindSpec(node.type)?.outputs.find((o) => o.port === handle)?.value_type;
}

/** Why a wire may not be drawn, in a sentence for the canvas, or null when it may. */
export function connectionProblem(doc: FlowDocument, connection: Connection | Edge): string | null {
  const { source, target, sourceHandle, targetHandle } = connection;
  if (!sourceHandle || !targetHandle) return "connect an output to a property";
  if (source === target) return "a node cannot read its own output";
  const from = findNode(doc, source);
  const to = findNode(doc, target);
  if (!from || !to) return "both ends must be nodes of this flow";
  const type = sourceType(doc, source, sourceHandle);
  if (!type) return `\`${source}\` has no output \`${sourceHandle}\``;
  if (isInputsNode(to)) return "the flow's inputs take no wires";
  if (!isOutputsNode(to)) {
    if (targetHandle !== VARIABLES) {
      const spec = propertySpec(to.type, targetHandle);
      if (!spec) return `\`${target}\` has no property \`${targetHandle}\``;
      switch (spec.editor.type) {
        case "template":
        case "expression":
          return `${spec.label} reads the node's variables: connect to Variables and use {{ name }}`;
        case "select":
          return `${spec.label} is one of ${spec.editor.options.join(", ")}, not a wire`;
        case "switch":
          return `${spec.label} is an on/off setting, not a wire`;
        case "connection":
          return `${spec.label} names a saved connection; wire a connection into Dynamic connection instead`;
      }
      if (!flowsInto(type, spec.value_type)) return `${type} cannot flow into ${spec.label} (${spec.value_type})`;
    }
  }
  if (!isOutputsNode(to) && reaches(doc, target, source)) return `this wire would close a loop: ${target} already feeds ${source}`;
  return null;
}

/** Whether `from` feeds `to` through node references (so a wire to → from would make a cycle). */
function reaches(doc: FlowDocument, from: string, to: string): boolean {
  const readers = new Map<string, string[]>();
  for (const node of doc.nodes) {
    for (const ref of referencesIn(node)) {
      if (ref.kind !== "node") continue;
      const list = readers.get(ref.id) ?? [];
      list.push(node.id);
      readers.set(ref.id, list);
    }
  }
  const stack = [from];
  const seen = new Set<string>();
  while (stack.length) {
    const id = stack.pop()!;
    if (id === to) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(readers.get(id) ?? []));
  }
  return false;
}

function referencesIn(node: FlowNode) {
  const sources: ReturnType<typeof findReferences>[number]["source"][] = [];
  mapStrings(node.properties ?? {}, (text) => {
    for (const ref of findReferences(text)) sources.push(ref.source);
    return text;
  });
  return sources;
}

function replaceNode(doc: FlowDocument, id: string, update: (node: FlowNode) => FlowNode): FlowDocument {
  return { ...doc, nodes: doc.nodes.map((n) => (n.id === id ? update(n) : n)) };
}

/** Sets (or, with `undefined`, removes) one property, keeping the others' order. */
export function withProperty(node: FlowNode, key: string, value: JsonValue | undefined): FlowNode {
  const properties = { ...node.properties };
  if (value === undefined) delete properties[key];
  else properties[key] = value;
  const { properties: _old, ...rest } = node;
  void _old;
  return Object.keys(properties).length ? { ...rest, properties } : rest;
}

function entryName(source: string, handle: string): string {
  if (source === "inputs" || handle === "output") return handle === "output" ? source : handle;
  return `${source}_${handle}`;
}

/** Writes the wire's reference into the document, or says why it cannot. */
export function connect(doc: FlowDocument, connection: Connection): { document: FlowDocument } | { reason: string } {
  const reason = connectionProblem(doc, connection);
  if (reason) return { reason };
  const { source, target } = connection;
  const sourceHandle = connection.sourceHandle!;
  const targetHandle = connection.targetHandle!;
  const from = findNode(doc, source)!;
  const to = findNode(doc, target)!;
  const fromInputs = isInputsNode(from);
  const reference = fromInputs ? `\${inputs.${sourceHandle}}` : referenceTo(source, sourceHandle);
  if (isOutputsNode(to)) {
    const outputs = { ...doc.outputs };
    const name = targetHandle === NEW_OUTPUT ? uniqueId(entryName(fromInputs ? "inputs" : source, sourceHandle), (n) => n in outputs) : targetHandle;
    const previous = outputs[name];
    outputs[name] = previous ? { ...previous, value: reference } : { value: reference };
    return { document: { ...doc, outputs } };
  }
  if (targetHandle === VARIABLES) {
    const current = to.properties?.[VARIABLES];
    const variables = current && typeof current === "object" && !Array.isArray(current) ? { ...current } : {};
    if (Object.values(variables).includes(reference)) return { document: doc };
    const name = uniqueId(entryName(fromInputs ? "inputs" : source, sourceHandle), (n) => n in variables);
    variables[name] = reference;
    return { document: replaceNode(doc, target, (n) => withProperty(n, VARIABLES, variables)) };
  }
  if (to.properties?.[targetHandle] === reference) return { document: doc };
  return { document: replaceNode(doc, target, (n) => withProperty(n, targetHandle, reference)) };
}

/** Removes the references a wire stands for from `text`. */
function stripReferences(text: string, source: string, handle: string, inputsId?: string): string {
  let out = "";
  let last = 0;
  for (const ref of findReferences(text)) {
    const hit =
      (ref.source.kind === "node" && ref.source.id === source && ref.source.port === handle) ||
      (ref.source.kind === "input" && source === inputsId && ref.source.name === handle);
    if (!hit) continue;
    out += text.slice(last, ref.start);
    last = ref.end;
  }
  return last === 0 ? text : out + text.slice(last);
}

const isBlank = (value: JsonValue) => typeof value === "string" && value.trim() === "";

/** Removes the reference a wire stands for: the property, the variables entry or the flow output. */
export function disconnect(doc: FlowDocument, edge: Wire): FlowDocument {
  const to = findNode(doc, edge.target);
  const property = edge.data?.property ?? edge.targetHandle ?? "";
  const inputsId = flowPortId(doc, "inputs");
  if (!to) return doc;
  if (isOutputsNode(to)) {
    if (!doc.outputs?.[property]) return doc;
    const outputs = { ...doc.outputs };
    delete outputs[property];
    return { ...doc, outputs };
  }
  const value = to.properties?.[property];
  if (value === undefined) return doc;
  const strip = (v: JsonValue) => mapStrings(v, (text) => stripReferences(text, edge.source, edge.sourceHandle ?? "", inputsId));
  if (property === VARIABLES && edge.data?.entry !== undefined && value && typeof value === "object" && !Array.isArray(value)) {
    const variables = { ...value };
    const entry = variables[edge.data.entry];
    if (entry === undefined) return doc;
    const stripped = strip(entry);
    if (isBlank(stripped)) delete variables[edge.data.entry];
    else variables[edge.data.entry] = stripped;
    return replaceNode(doc, to.id, (n) => withProperty(n, VARIABLES, Object.keys(variables).length ? variables : undefined));
  }
  const stripped = strip(value);
  return replaceNode(doc, to.id, (n) => withProperty(n, property, isBlank(stripped) ? undefined : stripped));
}

/** Removes nodes (and notes, by canvas id) and the wires out of them. */
export function removeNodes(doc: FlowDocument, ids: ReadonlySet<string>): FlowDocument {
  let next: FlowDocument = doc;
  // Flow ports only place the flow's inputs and outputs; those outlive them.
  const wired = doc.nodes.filter((n) => ids.has(n.id) && !isFlowPort(n.type));
  if (wired.length) {
    const gone = new Set(wired.map((n) => n.id));
    for (const edge of documentEdges(doc)) if (gone.has(edge.source) && !ids.has(edge.target)) next = disconnect(next, edge);
  }
  const nodes = next.nodes.filter((n) => !ids.has(n.id));
  const notes = next.notes?.filter((n) => !ids.has(NOTE_PREFIX + n.id));
  return { ...next, nodes, ...(notes ? { notes } : {}) };
}

/** Renames a node and rewrites every reference to it; or says why the new id is not allowed. */
export function renameNode(doc: FlowDocument, from: string, to: string): { document: FlowDocument } | { reason: string } {
  if (from === to) return { document: doc };
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(to)) return { reason: "an id has letters, digits, _ and -, and starts with a letter or _" };
  if (to === "inputs" || to === "vars") return { reason: `\`${to}\` is reserved for references` };
  if (doc.nodes.some((n) => n.id === to)) return { reason: `another node is already \`${to}\`` };
  const rename = (id: string) => (id === from ? to : undefined);
  const rewrite = <T,>(value: T): T => mapStrings(value, (text) => renameReferences(text, rename));
  const nodes = doc.nodes.map((n) => {
    const properties = n.properties && rewrite(n.properties);
    const renamed = n.id === from ? { ...n, id: to } : n;
    return properties === n.properties ? renamed : { ...renamed, properties };
  });
  const outputs = doc.outputs && rewrite(doc.outputs);
  return { document: { ...doc, nodes, ...(outputs ? { outputs } : {}) } };
}
