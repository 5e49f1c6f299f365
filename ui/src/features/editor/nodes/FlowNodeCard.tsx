// One component for every node kind, drawn from the catalog: title, icon, a few key properties,
// and a typed handle per property (left) and per output (right). Memoised: React Flow re-renders a
// node only when its own object changes, and the store keeps unchanged nodes' objects.
import { Handle, type NodeProps, Position, useStoreApi, useUpdateNodeInternals } from "@xyflow/react";
import { memo, useEffect, useMemo } from "react";

import { NodeRunBadge } from "../../run/NodeRunBadge";
import { isFlowPort, kindIcon, kindSpec } from "../catalog";
import type { FlowCanvasNode } from "../graph";
import { useEditor } from "../store";
import { type CardLayout, type CardPort, cardLayout } from "./card";
import "./kind-icon.css";
import "./nodes.css";

function preview(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  const line = text.split("\n")[0] ?? "";
  return line.length > 42 ? `${line.slice(0, 41)}…` : line;
}

function Port({ side, port: { id, label, type, required } }: { side: "in" | "out"; port: CardPort }) {
  return (
    <div className={`port port-${side}`} title={`${label} (${type})`}>
      <Handle
        type={side === "in" ? "target" : "source"}
        position={side === "in" ? Position.Left : Position.Right}
        id={id}
        className={`handle handle-${type}`}
        aria-label={`${side === "in" ? "Input" : "Output"} ${label}`}
      />
      <span className="port-label">
        {label}
        {required && <span aria-hidden> *</span>}
      </span>
    </div>
  );
}

function ProblemBadge({ id }: { id: string }) {
  const count = useEditor((s) => s.problemCounts[id]);
  if (!count) return null;
  const errors = count.errors > 0;
  const n = errors ? count.errors : count.warnings;
  return (
    <span className={`node-badge ${errors ? "node-badge-error" : "node-badge-warning"}`} data-testid={`node-problems-${id}`} title={`${n} ${errors ? "error" : "warning"}${n === 1 ? "" : "s"}`}>
      {errors ? "!" : "⚠"} {n}
    </span>
  );
}

/** The row under the input ports that shows the folded ones ("+ 10 more") or folds them again. */
function FoldRow({ id, fold }: { id: string; fold: NonNullable<CardLayout["fold"]> }) {
  // The store is read when clicked, not subscribed to: every subscriber runs on every edit.
  return (
    <button
      type="button"
      className="port port-fold nodrag"
      data-testid={`ports-fold-${id}`}
      aria-expanded={fold.open}
      onClick={() => useEditor.getState().togglePorts(id)}
    >
      {fold.open ? "Show fewer" : `+ ${fold.hidden} more`}
    </button>
  );
}

function FlowNodeCardInner({ id, type, data, selected }: NodeProps<FlowCanvasNode>) {
  const { node, ports, showAll } = data;
  const layout = useMemo(() => cardLayout(node, ports, showAll !== undefined), [node, ports, showAll]);
  const { fold } = layout;
  // A wire dragged over the card opens its folded ports, so it can be dropped on any of them (as
  // ComfyUI shows a widget's socket while a link is dropped on it,
  // https://github.com/Comfy-Org/litegraph.js/pull/891); they fold again when the drag ends.
  const flow = useStoreApi();
  const onPointerEnter = fold && !fold.open ? () => flow.getState().connection.inProgress && useEditor.getState().revealPorts(id) : undefined;
  // The Inputs and Outputs nodes' handles are the flow's inputs and outputs. React Flow measures
  // handles only when a node resizes, so a renamed input would not take a wire until told.
  const updateNodeInternals = useUpdateNodeInternals();
  // Only those two: each call re-measures on its own animation frame, so one per node would make
  // opening a 1000-node flow quadratic (a call per mounted node, each O(nodes)).
  const flowPorts = isFlowPort(type);
  const handleIds = flowPorts ? Object.keys(ports ?? {}).join("\n") : "";
  useEffect(() => {
    if (flowPorts) updateNodeInternals(id);
  }, [flowPorts, id, handleIds, updateNodeInternals]);
  // Selecting or deselecting a card changes its frame only: the body is memoised apart, so a drop
  // (which selects the new node and deselects the last) does not render the old card's rows again.
  return (
    <div className={`fnode${selected ? " fnode-selected" : ""}`} data-kind={type} onPointerEnter={onPointerEnter}>
      <CardBody id={id} type={type} node={node} layout={layout} />
    </div>
  );
}

const CardBody = memo(function CardBody({ id, type, node, layout: { summary, inputs, outputs, fold } }: { id: string; type: string; node: FlowCanvasNode["data"]["node"]; layout: CardLayout }) {
  const spec = kindSpec(type);
  const properties = node.properties ?? {};
  return (
    <>
      <header className="fnode-head">
        <span className="fnode-icon" aria-hidden>
          {kindIcon(type)}
        </span>
        <span className="fnode-title">{node.title || spec?.title || type}</span>
        <ProblemBadge id={id} />
      </header>
      <div className="fnode-sub">
        <code>{id}</code> · {spec?.title ?? `unknown kind ${type}`}
      </div>
      <NodeRunBadge id={id} />
      {summary.length > 0 && (
        <dl className="fnode-summary">
          {summary.map((key) => (
            <div key={key}>
              <dt>{spec?.properties.find((p) => p.key === key)?.label ?? key}</dt>
              <dd>{preview(properties[key])}</dd>
            </div>
          ))}
        </dl>
      )}
      <div className="fnode-ports">
        <div className="ports-in">
          {inputs.map((port) => (
            <Port key={port.id} side="in" port={port} />
          ))}
          {fold && <FoldRow id={id} fold={fold} />}
        </div>
        <div className="ports-out">
          {outputs.map((port) => (
            <Port key={port.id} side="out" port={port} />
          ))}
        </div>
      </div>
    </>
  );
});

export const FlowNodeCard = memo(FlowNodeCardInner);
