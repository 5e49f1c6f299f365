// The flow being edited. State and actions are typed apart; React Flow's change events are
// applied with its own helpers so selection, dragging and removal behave as React Flow expects.
import {
  type Connection,
  type Edge,
  type EdgeChange,
  type Node,
  type NodeChange,
  addEdge,
  applyEdgeChanges,
  applyNodeChanges,
} from "@xyflow/react";
import { create } from "zustand";

export type EditorState = {
  title: string;
  nodes: Node[];
  edges: Edge[];
};

export type EditorActions = {
  onNodesChange: (changes: NodeChange[]) => void;
  onEdgesChange: (changes: EdgeChange[]) => void;
  onConnect: (connection: Connection) => void;
};

export const initialEditorState: EditorState = { title: "Untitled flow", nodes: [], edges: [] };

export const useEditor = create<EditorState & EditorActions>()((set) => ({
  ...initialEditorState,
  onNodesChange: (changes) => set((s) => ({ nodes: applyNodeChanges(changes, s.nodes) })),
  onEdgesChange: (changes) => set((s) => ({ edges: applyEdgeChanges(changes, s.edges) })),
  onConnect: (connection) => set((s) => ({ edges: addEdge(connection, s.edges) })),
}));
