//! The Inputs node: places the flow's `inputs:` on the canvas. One per flow; it never runs, so it
//! has no properties and no `Props`.

use crate::kind::{NodeGroup, NodeKind, NodeKindSpec, NodeRole};

pub const SPEC: NodeKindSpec = NodeKindSpec {
    kind: NodeKind::Inputs,
    title: "Inputs",
    group: NodeGroup::InputsOutputs,
    role: NodeRole::FlowPort,
    id_stem: "inputs",
    icon: "⇥",
    description: "The flow's inputs, given at each run.",
    properties: &[],
    outputs: &[],
    summary: &[],
    writes_variable: None,
};
