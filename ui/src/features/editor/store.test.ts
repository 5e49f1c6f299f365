import { beforeEach, describe, expect, it } from "vitest";

import { initialEditorState, useEditor } from "./store";

const node = (id: string, x = 0) => ({ id, position: { x, y: 0 }, data: {} });

describe("editor store", () => {
  beforeEach(() => useEditor.setState(initialEditorState));

  it("adds, moves, selects and removes nodes through React Flow changes", () => {
    const { onNodesChange } = useEditor.getState();
    onNodesChange([{ type: "add", item: node("a") }, { type: "add", item: node("b", 200) }]);
    onNodesChange([{ type: "position", id: "a", position: { x: 40, y: 80 } }]);
    onNodesChange([{ type: "select", id: "b", selected: true }]);
    let { nodes } = useEditor.getState();
    expect(nodes.map((n) => n.id)).toEqual(["a", "b"]);
    expect(nodes[0]?.position).toEqual({ x: 40, y: 80 });
    expect(nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(["b"]);

    onNodesChange([{ type: "remove", id: "a" }]);
    ({ nodes } = useEditor.getState());
    expect(nodes.map((n) => n.id)).toEqual(["b"]);
  });

  it("connects two nodes once and removes the edge again", () => {
    const { onConnect, onEdgesChange } = useEditor.getState();
    const link = { source: "a", target: "b", sourceHandle: null, targetHandle: null };
    onConnect(link);
    onConnect(link);
    const { edges } = useEditor.getState();
    expect(edges).toHaveLength(1);
    expect(edges[0]).toMatchObject({ source: "a", target: "b" });

    onEdgesChange([{ type: "remove", id: edges[0]!.id }]);
    expect(useEditor.getState().edges).toEqual([]);
  });
});
