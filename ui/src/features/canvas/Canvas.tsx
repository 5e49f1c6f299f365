import {
  Background,
  BackgroundVariant,
  type Connection,
  Controls,
  type EdgeTypes,
  type NodeTypes,
  Panel,
  ReactFlow,
  type ReactFlowInstance,
  type ReactFlowProps,
  useReactFlow,
} from "@xyflow/react";
import { type DragEvent, type MouseEvent, useCallback, useEffect, useRef, useState } from "react";
import { useShallow } from "zustand/react/shallow";

import { catalog, isFlowPort } from "../editor/catalog";
import type { CanvasNode, Wire } from "../editor/graph";
import { FlowNodeCard } from "../editor/nodes/FlowNodeCard";
import { NoteNode } from "../editor/nodes/NoteNode";
import { WireEdge } from "../editor/nodes/WireEdge";
import { useEditor } from "../editor/store";
import { FileBanner } from "../files/FileBanner";
import { KIND_MIME } from "../palette/Palette";
import { CanvasToolbar } from "./CanvasToolbar";
import { ContextMenu, type MenuItem } from "./ContextMenu";
import { FIT_MAX_ZOOM, useFitFlow } from "./fit";
import { FlowMiniMap } from "./FlowMiniMap";
import { useSkipKnownMeasurements } from "./measure";
import { paneMenu, selectionMenu, wireMenu } from "./menus";
import { registerPointer } from "./pointer";
import { QuickAdd } from "./QuickAdd";
import "./canvas.css";

// Module scope: a new object per render would make React Flow remount every node.
const nodeTypes: NodeTypes = { ...Object.fromEntries(catalog.map((spec) => [spec.kind, FlowNodeCard])), note: NoteNode };
const edgeTypes: EdgeTypes = { wire: WireEdge };
/** Above this many nodes, only those on screen are rendered (see bench/README.md). */
const ONLY_VISIBLE_ABOVE = 200;
const multiSelect = ["Shift", "Meta", "Control"];
const deleteKeys = ["Delete", "Backspace"];
const fitOptions = { maxZoom: FIT_MAX_ZOOM };
const proOptions = { hideAttribution: true };

/** Where a popup opened: inside the canvas (for the popup) and on the flow (for what it adds). */
type PopupAt = { local: { x: number; y: number }; bounds: { width: number; height: number }; flow: { x: number; y: number } };
type Menu = PopupAt & { label: string; items: MenuItem[] };

function ConnectionHint() {
  const hint = useEditor((s) => s.connectionHint);
  return hint ? (
    <p className="canvas-toast canvas-toast-top banner-error" role="status" data-testid="connection-hint">
      Can’t connect: {hint}
    </p>
  ) : null;
}

function CanvasNotice() {
  const notice = useEditor((s) => s.notice);
  const dismiss = useEditor((s) => s.dismissNotice);
  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(dismiss, 4000);
    return () => clearTimeout(timer);
  }, [notice, dismiss]);
  if (!notice) return null;
  return (
    <p className={`canvas-toast banner-${notice.tone === "error" ? "error" : "ok"}`} role="status" data-testid="canvas-notice">
      {notice.text}
      <button type="button" className="btn btn-quiet btn-small" aria-label="Dismiss" onClick={dismiss}>
        ×
      </button>
    </p>
  );
}

/** Centres the viewport on a node when the store asks (Problems list, "select the inputs node"). */
function useFocusRequests() {
  const { getInternalNode, setCenter, getZoom } = useReactFlow();
  const request = useEditor((s) => s.focusRequest);
  useEffect(() => {
    if (!request) return;
    const node = getInternalNode(request.id);
    if (!node) return;
    const { x, y } = node.internals.positionAbsolute;
    const width = node.measured.width ?? 0;
    const height = node.measured.height ?? 0;
    void setCenter(x + width / 2, y + height / 2, { zoom: Math.max(getZoom(), 1), duration: 250 });
  }, [request, getInternalNode, setCenter, getZoom]);
}

/** Fits each newly loaded flow into view, clear of the minimap; the `fitView` prop only covers the first one. */
function useFitOnLoad() {
  const fitFlow = useFitFlow();
  const loads = useEditor((s) => s.loads);
  useEffect(() => {
    if (!loads) return;
    // Two frames: React Flow measures in the first the nodes whose DOM size is not their estimate (notes).
    let frame = requestAnimationFrame(() => {
      frame = requestAnimationFrame(() => fitFlow());
    });
    return () => cancelAnimationFrame(frame);
  }, [loads, fitFlow]);
}

function EmptyHint() {
  const onlyFrame = useEditor((s) => s.document.nodes.every((n) => isFlowPort(n.type)));
  return onlyFrame ? (
    <p className="canvas-hint">
      Drag a node from the palette, or double-click the canvas (or press <kbd>/</kbd>) to add one.
      <br />
      Wire an output (right) to a property (left) to pass its value.
    </p>
  ) : null;
}

type FlowProps = Omit<ReactFlowProps<CanvasNode, Wire>, "nodes" | "edges" | "onNodesChange" | "onEdgesChange" | "onConnect" | "isValidConnection" | "onConnectEnd" | "onDelete">;

/**
 * React Flow with the editor's nodes and wires: the one part of the canvas that renders again on
 * each edit. The canvas around it (its toolbar, minimap, controls and popups, passed as stable
 * props and children) does not, so an edit renders React Flow and what changed in it only.
 */
function Flow(props: FlowProps) {
  // A mounted card whose size and handles React Flow was given is not measured again (measure.ts).
  useSkipKnownMeasurements();
  // Only what React Flow draws, so changes to the rest of the editor state skip it.
  const { nodes, edges, onNodesChange, onEdgesChange, onConnect, checkConnection, endConnecting, deleteElements } = useEditor(
    useShallow((s) => ({
      nodes: s.nodes,
      edges: s.edges,
      onNodesChange: s.onNodesChange,
      onEdgesChange: s.onEdgesChange,
      onConnect: s.onConnect,
      checkConnection: s.checkConnection,
      endConnecting: s.endConnecting,
      deleteElements: s.deleteElements,
    })),
  );
  // A big flow keeps only what is on screen in the DOM: hit-testing, painting and compositing a
  // thousand nodes and their wires on every pointer move made panning and dragging crawl. Smaller
  // flows keep every node in the DOM (reachable with Tab, found by tests).
  const bigFlow = nodes.length > ONLY_VISIBLE_ABOVE;
  // Stable callbacks: React Flow copies each changed prop into its store, and every store update
  // runs every subscriber (hundreds with a big flow), so a new function per render costs a pass.
  const isValidConnection = useCallback((connection: Wire | Connection) => checkConnection(connection) === null, [checkConnection]);
  const onDelete = useCallback(
    ({ nodes: gone, edges: cut }: { nodes: CanvasNode[]; edges: Wire[] }) => deleteElements(gone.map((n) => n.id), cut.map((e) => e.id)),
    [deleteElements],
  );
  return (
    <ReactFlow<CanvasNode, Wire>
      {...props}
      nodes={nodes}
      edges={edges}
      onNodesChange={onNodesChange}
      onEdgesChange={onEdgesChange}
      onConnect={onConnect}
      isValidConnection={isValidConnection}
      onConnectEnd={endConnecting}
      onDelete={onDelete}
      onlyRenderVisibleElements={bigFlow}
    />
  );
}

export function Canvas() {
  const addNode = useEditor((s) => s.addNode);
  const flow = useRef<ReactFlowInstance<CanvasNode, Wire> | null>(null);
  const frame = useRef<HTMLElement>(null);
  const pointer = useRef<{ x: number; y: number } | null>(null);
  const [quickAdd, setQuickAdd] = useState<PopupAt | null>(null);
  const [menu, setMenu] = useState<Menu | null>(null);
  const closeMenu = useCallback(() => setMenu(null), []);
  const onInit = useCallback((instance: ReactFlowInstance<CanvasNode, Wire>) => {
    flow.current = instance;
  }, []);
  useFocusRequests();
  useFitOnLoad();
  const fitFlow = useFitFlow();
  // The controls' button fits as fitView does first; this moves the nodes clear of the minimap.
  const refit = useCallback(() => fitFlow(), [fitFlow]);

  const popupAt = useCallback((screen: { x: number; y: number }): PopupAt | null => {
    const box = frame.current?.getBoundingClientRect();
    if (!flow.current || !box) return null;
    return {
      local: { x: screen.x - box.left, y: screen.y - box.top },
      bounds: { width: box.width, height: box.height },
      flow: flow.current.screenToFlowPosition(screen),
    };
  }, []);
  /** The pointer's screen position if it is over the canvas. */
  const pointerOnCanvas = useCallback(() => {
    const box = frame.current?.getBoundingClientRect();
    const at = pointer.current;
    return box && at && at.x >= box.left && at.x <= box.right && at.y >= box.top && at.y <= box.bottom ? at : null;
  }, []);
  const openQuickAdd = useCallback((screen: { x: number; y: number }) => setQuickAdd(popupAt(screen)), [popupAt]);
  const openMenu = useCallback(
    (event: MouseEvent | globalThis.MouseEvent, label: string, items: (at: PopupAt) => MenuItem[]) => {
      event.preventDefault();
      const at = popupAt({ x: event.clientX, y: event.clientY });
      if (at) setMenu({ ...at, label, items: items(at) });
    },
    [popupAt],
  );
  const onNodeContextMenu = useCallback(
    (event: MouseEvent, node: CanvasNode) => {
      if (!node.selected) useEditor.getState().select([node.id]);
      openMenu(event, "Node", selectionMenu);
    },
    [openMenu],
  );
  const onSelectionContextMenu = useCallback((event: MouseEvent) => openMenu(event, "Selection", selectionMenu), [openMenu]);
  const onEdgeContextMenu = useCallback((event: MouseEvent, edge: Wire) => openMenu(event, "Wire", () => wireMenu(edge.id)), [openMenu]);
  const onPaneContextMenu = useCallback(
    (event: MouseEvent | globalThis.MouseEvent) =>
      openMenu(event, "Canvas", (at) =>
        paneMenu({
          at: at.flow,
          addNode: () => setQuickAdd(at),
          fitView: () => fitFlow(200),
        }),
      ),
    [openMenu, fitFlow],
  );

  // Paste and "here" find the pointer through this, not through a store update per pointer move.
  useEffect(
    () =>
      registerPointer(() => {
        const at = pointerOnCanvas();
        return at && flow.current ? flow.current.screenToFlowPosition(at) : null;
      }),
    [pointerOnCanvas],
  );

  // `/` opens the quick-add at the pointer (or the middle of the canvas) unless typing somewhere.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
      const target = event.target as HTMLElement;
      if (target.closest("input, textarea, select, [contenteditable=true], dialog")) return;
      const box = frame.current?.getBoundingClientRect();
      if (!box) return;
      event.preventDefault();
      openQuickAdd(pointerOnCanvas() ?? { x: box.left + box.width / 2, y: box.top + box.height / 2 });
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [openQuickAdd, pointerOnCanvas]);

  const onDragOver = (event: DragEvent) => {
    if (!event.dataTransfer.types.includes(KIND_MIME)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  };
  const onDrop = (event: DragEvent) => {
    const kind = event.dataTransfer.getData(KIND_MIME);
    if (!kind || !flow.current) return;
    event.preventDefault();
    const at = flow.current.screenToFlowPosition({ x: event.clientX, y: event.clientY });
    if (kind === "note") useEditor.getState().addNote(at);
    else addNode(kind, at);
  };
  const onDoubleClick = (event: MouseEvent) => {
    if ((event.target as HTMLElement).classList.contains("react-flow__pane")) openQuickAdd({ x: event.clientX, y: event.clientY });
  };

  return (
    <main
      ref={frame}
      className="canvas"
      data-testid="canvas"
      aria-label="Flow canvas"
      onDragOver={onDragOver}
      onDrop={onDrop}
      onDoubleClick={onDoubleClick}
      onPointerMove={(event) => {
        pointer.current = { x: event.clientX, y: event.clientY };
      }}
    >
      <Flow
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        onInit={onInit}
        onNodeContextMenu={onNodeContextMenu}
        onSelectionContextMenu={onSelectionContextMenu}
        onEdgeContextMenu={onEdgeContextMenu}
        onPaneContextMenu={onPaneContextMenu}
        onMoveStart={closeMenu}
        deleteKeyCode={deleteKeys}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={multiSelect}
        zoomOnDoubleClick={false}
        colorMode="system"
        fitView
        fitViewOptions={fitOptions}
        proOptions={proOptions}
      >
        <Background variant={BackgroundVariant.Dots} gap={18} size={1.4} />
        <FlowMiniMap ariaLabel="Minimap" />
        <Controls showInteractive={false} fitViewOptions={fitOptions} onFitView={refit} aria-label="Zoom controls" />
        <Panel position="top-left">
          <CanvasToolbar />
        </Panel>
      </Flow>
      <FileBanner />
      <EmptyHint />
      <ConnectionHint />
      <CanvasNotice />
      {menu && <ContextMenu label={menu.label} at={menu.local} bounds={menu.bounds} items={menu.items} onClose={closeMenu} />}
      {quickAdd && (
        <QuickAdd
          at={quickAdd.local}
          bounds={quickAdd.bounds}
          onPick={(kind) => {
            if (kind === "note") useEditor.getState().addNote(quickAdd.flow);
            else addNode(kind, quickAdd.flow);
            setQuickAdd(null);
          }}
          onClose={() => setQuickAdd(null)}
        />
      )}
    </main>
  );
}
