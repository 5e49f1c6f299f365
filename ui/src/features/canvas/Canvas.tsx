import { Background, BackgroundVariant, Controls, MiniMap, type NodeTypes, ReactFlow } from "@xyflow/react";
import { useShallow } from "zustand/react/shallow";

import { useEditor } from "../editor/store";

// Module scope: a new object per render would make React Flow remount every node.
const nodeTypes: NodeTypes = {};

export function Canvas() {
  // Only what React Flow draws, so changes to the rest of the editor state skip the canvas.
  const { nodes, edges, onNodesChange, onEdgesChange, onConnect } = useEditor(
    useShallow((s) => ({
      nodes: s.nodes,
      edges: s.edges,
      onNodesChange: s.onNodesChange,
      onEdgesChange: s.onEdgesChange,
      onConnect: s.onConnect,
    })),
  );
  return (
    <main className="canvas" data-testid="canvas" aria-label="Flow canvas">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        colorMode="system"
        fitView
        proOptions={{ hideAttribution: true }}
      >
        <Background variant={BackgroundVariant.Dots} gap={18} size={1.4} />
        <MiniMap pannable zoomable ariaLabel="Minimap" bgColor="var(--surface)" maskColor="var(--minimap-mask)" />
        <Controls showInteractive={false} aria-label="Zoom controls" />
      </ReactFlow>
      {nodes.length === 0 && <p className="canvas-hint">Drag nodes from the palette to start a flow</p>}
    </main>
  );
}
