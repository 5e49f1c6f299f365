//! The Outputs node: places the flow's `outputs:` on the canvas. One per flow; it never runs, so
//! it has no properties and no `Props`.

use crate::kind::{NodeGroup, NodeKind, NodeKindSpec, NodeRole};

pub const SPEC: NodeKindSpec = NodeKindSpec {
    kind: NodeKind::Outputs,
    title: "Outputs",
    group: NodeGroup::InputsOutputs,
    role: NodeRole::FlowPort,
    id_stem: "outputs",
    icon: "⇤",
    description: "What the flow returns.",
    properties: &[],
    outputs: &[],
    summary: &[],
    writes_variable: None,
};
