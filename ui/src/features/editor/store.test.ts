import { beforeEach, describe, expect, it } from "vitest";

import type { FlowDocument } from "../../ipc/generated/FlowDocument";
import { createEditorStore, selectDirty } from "./store";

const flow = (): FlowDocument => ({
  schema: 1,
  title: "Test",
  inputs: { question: { type: "string" } },
  nodes: [
    { id: "inputs", type: "inputs", position: { x: 0, y: 0 } },
    { id: "chat", type: "chat_completion", position: { x: 300, y: 0 }, properties: { deployment: "gpt-4o-mini", user_prompt: "{{ q }}" } },
  ],
});

let store = createEditorStore();
const editor = () => store.getState();
const chatNode = () => editor().document.nodes.find((n) => n.id === "chat")!;

describe("editor store", () => {
  beforeEach(() => {
    store = createEditorStore();
    editor().load(flow(), "/flows/test.weft.yaml");
  });

  it("adds nodes with readable unique ids, selected, without redrawing the others", () => {
    const before = editor().nodes.find((n) => n.id === "chat");
    expect(editor().addNode("chat_completion", { x: 10.4, y: 20 })).toBe("chat_2");
    expect(editor().addNode("chat_completion", { x: 10, y: 20 })).toBe("chat_3");
    expect(editor().addNode("prompt_template", { x: 0, y: 0 })).toBe("prompt");
    expect(editor().document.nodes.find((n) => n.id === "chat_2")!.position).toEqual({ x: 10, y: 20 });
    expect(editor().nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(["prompt"]);
    // The untouched node keeps its object, so React Flow does not redraw it.
    expect(editor().nodes.find((n) => n.id === "chat")).toBe(before);
    // A second inputs node is refused: the flow has one.
    expect(editor().addNode("inputs", { x: 0, y: 0 })).toBe("inputs");
    expect(editor().document.nodes.filter((n) => n.type === "inputs")).toHaveLength(1);
  });

  it("moves the selection to an added node without working out the previous one's card again", () => {
    editor().addNode("prompt_template", { x: 0, y: 0 });
    const first = editor().nodes.find((n) => n.id === "prompt")!;
    editor().addNode("prompt_template", { x: 300, y: 0 });
    const deselected = editor().nodes.find((n) => n.id === "prompt")!;
    expect(deselected.selected).toBeUndefined();
    expect(deselected.data).toBe(first.data);
    expect(deselected.measured).toBe(first.measured);
    expect(deselected.handles).toBe(first.handles);
    expect(editor().nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(["prompt_2"]);
  });

  it("undoes and redoes every edit; selection is not a step", () => {
    editor().addNode("prompt_template", { x: 0, y: 0 });
    editor().setProperty("prompt", "template", "Hello", false);
    editor().select(["chat"]);
    editor().undo();
    expect(editor().document.nodes.find((n) => n.id === "prompt")!.properties).toBeUndefined();
    editor().undo();
    expect(editor().document.nodes.map((n) => n.id)).toEqual(["inputs", "chat"]);
    expect(selectDirty(editor())).toBe(false);
    editor().undo(); // nothing left: a no-op
    editor().redo();
    editor().redo();
    expect(editor().document.nodes.find((n) => n.id === "prompt")!.properties).toEqual({ template: "Hello" });
    // A new edit drops the redo stack.
    editor().undo();
    editor().setNodeTitle("chat", "Answer");
    editor().redo();
    expect(editor().document.nodes.find((n) => n.id === "prompt")!.properties).toBeUndefined();
  });

  it("typing in one field is one step, until the field loses focus", () => {
    for (const text of ["g", "gp", "gpt"]) editor().setProperty("chat", "deployment", text);
    editor().endCoalescing();
    editor().setProperty("chat", "deployment", "gpt-4");
    editor().setProperty("chat", "system_prompt", "Be brief");
    expect(editor().past).toHaveLength(3);
    editor().undo();
    editor().undo();
    expect(chatNode().properties!.deployment).toBe("gpt");
    editor().undo();
    expect(chatNode().properties!.deployment).toBe("gpt-4o-mini");
  });

  it("a drag is one step, committed when it stops", () => {
    const { onNodesChange } = editor();
    onNodesChange([{ type: "position", id: "chat", position: { x: 310, y: 5 }, dragging: true }]);
    onNodesChange([{ type: "position", id: "chat", position: { x: 350, y: 40 }, dragging: true }]);
    expect(editor().past).toHaveLength(0);
    expect(chatNode().position).toEqual({ x: 300, y: 0 });
    onNodesChange([{ type: "position", id: "chat", position: { x: 360, y: 40 }, dragging: false }]);
    expect(chatNode().position).toEqual({ x: 360, y: 40 });
    expect(editor().past).toHaveLength(1);
    editor().undo();
    expect(editor().nodes.find((n) => n.id === "chat")!.position).toEqual({ x: 300, y: 0 });
  });

  it("wires write references, refused wires explain why, and deleting a node is one step with its wires", () => {
    editor().onConnect({ source: "inputs", sourceHandle: "question", target: "chat", targetHandle: "variables" });
    expect(chatNode().properties!.variables).toEqual({ question: "${inputs.question}" });
    expect(editor().edges.map((e) => e.id)).toEqual(["inputs.question>chat.variables.question"]);

    editor().onConnect({ source: "inputs", sourceHandle: "question", target: "chat", targetHandle: "user_prompt" });
    expect(editor().notice?.text).toMatch(/Not connected: User prompt reads the node's variables/);
    expect(editor().checkConnection({ source: "chat", sourceHandle: "output", target: "chat", targetHandle: "variables" })).toMatch(/own output/);
    expect(editor().connectionHint).toMatch(/own output/);
    editor().endConnecting();
    expect(editor().connectionHint).toBeNull();

    const steps = editor().past.length;
    editor().deleteElements(["inputs"], []);
    expect(editor().document.nodes.map((n) => n.id)).toEqual(["chat"]);
    expect(editor().edges).toEqual([]);
    expect(editor().past).toHaveLength(steps + 1);
    editor().undo();
    expect(editor().edges).toHaveLength(1);
  });

  it("renaming an id rewrites references and keeps the node selected", () => {
    editor().onConnect({ source: "chat", sourceHandle: "output", target: "inputs", targetHandle: "x" });
    editor().addNode("prompt_template", { x: 0, y: 0 });
    editor().onConnect({ source: "chat", sourceHandle: "output", target: "prompt", targetHandle: "variables" });
    editor().select(["chat"]);
    expect(editor().renameNode("chat", "answer")).toBeNull();
    expect(editor().document.nodes.find((n) => n.id === "prompt")!.properties!.variables).toEqual({ chat: "${answer.output}" });
    expect(editor().nodes.find((n) => n.id === "answer")!.selected).toBe(true);
    expect(editor().renameNode("answer", "prompt")).toMatch(/already/);
  });

  it("copy and paste give fresh ids and keep wires among the pasted nodes", () => {
    editor().addNode("prompt_template", { x: 0, y: 0 });
    editor().onConnect({ source: "prompt", sourceHandle: "output", target: "chat", targetHandle: "variables" });
    editor().select(["chat", "prompt"]);
    const clip = editor().copySelection()!;
    editor().paste(clip);
    const ids = editor().document.nodes.map((n) => n.id);
    expect(ids).toEqual(["inputs", "chat", "prompt", "chat_2", "prompt_2"]);
    const pasted = editor().document.nodes.find((n) => n.id === "chat_2")!;
    expect(pasted.properties!.variables).toEqual({ prompt: "${prompt_2.output}" });
    expect(pasted.position).toEqual({ x: 340, y: 40 });
    expect(editor().nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(["chat_2", "prompt_2"]);

    // Into another flow: ids there decide, and the inputs node is not duplicated.
    editor().load(flow(), null);
    editor().paste({ weft: "nodes", nodes: [...clip.nodes, editor().document.nodes[0]!], notes: [] });
    expect(editor().document.nodes.map((n) => n.id)).toEqual(["inputs", "chat", "chat_2", "prompt"]);
    expect(editor().document.nodes.find((n) => n.id === "chat_2")!.properties!.variables).toEqual({ prompt: "${prompt.output}" });
  });

  it("pastes a group with its top-left corner at the pointer, keeping its shape", () => {
    editor().addNode("prompt_template", { x: 100, y: 200 });
    editor().select(["chat", "prompt"]);
    editor().paste(editor().copySelection()!, { x: 1000.4, y: 500 });
    const at = (id: string) => editor().document.nodes.find((n) => n.id === id)!.position;
    // chat was at (300, 0) and prompt at (100, 200): the corner of the two is (100, 0).
    expect(at("prompt_2")).toEqual({ x: 1000, y: 700 });
    expect(at("chat_2")).toEqual({ x: 1200, y: 500 });
  });

  it("gives React Flow estimated sizes until the DOM measures another, and keeps the wire array when no wire changed", () => {
    const chat = () => editor().nodes.find((n) => n.id === "chat")!;
    expect(chat().measured).toEqual({ width: 240, height: expect.any(Number) });
    expect(chat().handles?.map((h) => h.id)).toContain("user_prompt");
    const edges = editor().edges;
    editor().setNodeTitle("chat", "Ask");
    expect(editor().edges).toBe(edges);
    // The DOM disagrees: its size wins, React Flow keeps the handles it measured, and later edits keep both.
    editor().onNodesChange([{ type: "dimensions", id: "chat", dimensions: { width: 240, height: 400 } }]);
    expect(chat().handles).toBeUndefined();
    editor().setNodeTitle("chat", "Ask again");
    expect(chat().measured).toEqual({ width: 240, height: 400 });
    expect(chat().handles).toBeUndefined();
  });

  it("cut removes, duplicate copies in place, align and layout move as one step each", () => {
    editor().select(["chat"]);
    editor().duplicateSelection();
    expect(editor().document.nodes.map((n) => n.id)).toEqual(["inputs", "chat", "chat_2"]);
    editor().select(["chat", "chat_2"]);
    editor().align("top");
    expect(editor().document.nodes.slice(1).map((n) => n.position.y)).toEqual([0, 0]);
    editor().select(["chat_2"]);
    editor().cutSelection();
    expect(editor().document.nodes.map((n) => n.id)).toEqual(["inputs", "chat"]);
    editor().onConnect({ source: "inputs", sourceHandle: "question", target: "chat", targetHandle: "variables" });
    editor().select(["inputs"]);
    const steps = editor().past.length;
    editor().align("left");
    expect(editor().past).toHaveLength(steps); // one node: nothing to align, so no step
    editor().autoLayout();
    const [inputs, chat] = editor().document.nodes;
    expect(chat!.position.x).toBeGreaterThan(inputs!.position.x);
  });

  it("notes are added, edited and undone like nodes", () => {
    const id = editor().addNote({ x: 5, y: 5 }, "Why this flow");
    editor().setNoteText(id, "Why this flow exists");
    expect(editor().document.notes).toEqual([{ id: "note", text: "Why this flow exists", position: { x: 5, y: 5 } }]);
    editor().undo();
    expect(editor().document.notes![0]!.text).toBe("Why this flow");
  });

  it("opens a card's folded ports on request, or while a wire is dragged over it until the drag ends", () => {
    const data = () => {
      const node = editor().nodes.find((n) => n.id === "chat")!;
      return "node" in node.data ? node.data : undefined;
    };
    const height = () => editor().nodes.find((n) => n.id === "chat")!.measured!.height!;
    const folded = height();
    editor().togglePorts("chat");
    expect(data()?.showAll).toBe("user");
    expect(height()).toBe(folded + 12 * 18);
    editor().endConnecting(); // the user opened it: a wire drag does not fold it
    expect(data()?.showAll).toBe("user");
    editor().togglePorts("chat");
    expect(height()).toBe(folded);

    editor().updateFlow((d) => ({ ...d, inputs: { ...d.inputs, history: { type: "list" } } }));
    editor().revealPorts("chat");
    expect(data()?.showAll).toBe("wire");
    // An edit during the drag keeps it open; the drag's end folds it, keeping what got wired.
    editor().onConnect({ source: "inputs", sourceHandle: "history", target: "chat", targetHandle: "chat_history" });
    expect(data()?.showAll).toBe("wire");
    editor().endConnecting();
    expect(data()?.showAll).toBeUndefined();
    expect(editor().nodes.find((n) => n.id === "chat")!.handles!.map((h) => h.id)).toContain("chat_history");
    expect(height()).toBe(folded + 18);
  });

  it("makes independent stores: an edit in one is not in another, nor in its history", () => {
    const other = createEditorStore();
    editor().setNodeTitle("chat", "Answer");
    expect(other.getState().document.nodes.map((n) => n.id)).toEqual(["inputs", "outputs"]);
    expect(other.getState().past).toEqual([]);
    other.getState().undo();
    expect(chatNode().title).toBe("Answer");
  });

  it("is dirty after an edit and clean again once saved", () => {
    expect(selectDirty(editor())).toBe(false);
    editor().setNodeTitle("chat", "Answer");
    expect(selectDirty(editor())).toBe(true);
    editor().markSaved(editor().document, "/flows/x.weft.yaml");
    expect(selectDirty(editor())).toBe(false);
    expect(editor().path).toBe("/flows/x.weft.yaml");
  });
});
