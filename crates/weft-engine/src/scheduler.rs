//! The engine's loop: start every node whose inputs are ready, wait for one to end, repeat.

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinSet;

use crate::error::RunError;
use crate::event::{FailureCause, RunEvent};
use crate::nodes::{NodeContext, NodeDone, NodeError, execute};
use crate::plan::select;
use crate::run::{RunOutcome, RunRequest, RunState, checked_inputs};
use crate::services::Services;

pub struct Engine {
    services: Services,
}

impl Engine {
    /// An engine whose nodes call `services` (`Services::from_client` in the app and the CLI).
    pub fn new(services: Services) -> Self {
        Self { services }
    }

    /// Runs a flow that validated (its graph and secrets come with it, computed once). Events go to `events` as they happen; the outcome is also
    /// returned whole. Cancelling `request.cancel` stops running nodes at once and keeps what
    /// finished.
    pub async fn run(
        &self,
        request: RunRequest,
        events: UnboundedSender<RunEvent>,
    ) -> Result<RunOutcome, RunError> {
        let started = Instant::now();
        let flow = request.flow.clone();
        let inputs = checked_inputs(&flow, &request.inputs)?;
        let selection = select(&flow, &request.plan, &request.reuse)?;
        let mut run = RunState::new(&request, self.services.clone(), inputs, events);
        run.reuse(&request.reuse, &selection.reuse);
        run.send(RunEvent::RunStarted {
            run_id: request.run_id.clone(),
        });
        let mut tasks: JoinSet<(String, Result<NodeDone, NodeError>)> = JoinSet::new();
        let mut cancelled = false;
        loop {
            let nodes = flow.document().nodes.iter();
            for node in nodes.filter(|n| selection.run.contains(&n.id)) {
                if let Some(ctx) = run.start(node, flow.graph().dependencies(&node.id)) {
                    tasks.spawn(supervised(ctx, request.node_timeout));
                }
            }
            if tasks.is_empty() {
                break;
            }
            let joined = tokio::select! {
                biased;
                () = request.cancel.cancelled() => {
                    tasks.abort_all();
                    cancelled = true;
                    break;
                }
                joined = tasks.join_next() => joined,
            };
            match joined {
                Some(Ok((id, result))) => run.finish(&id, result),
                // Panics are caught inside the task; only an abort gets here, and aborts happen
                // after the loop ends.
                Some(Err(err)) => tracing::error!("a node task ended abnormally: {err}"),
                None => break,
            }
        }
        Ok(run.outcome(cancelled, started))
    }
}

/// Runs a node under its timeout. A panic inside it (a bug, or a connection source that
/// panicked) fails that node with a clear sentence instead of leaving the run half done.
async fn supervised(ctx: NodeContext, timeout: Duration) -> (String, Result<NodeDone, NodeError>) {
    let id = ctx.id.clone();
    let work = AssertUnwindSafe(tokio::time::timeout(timeout, execute(ctx))).catch_unwind();
    let result = match work.await {
        Ok(Ok(result)) => result,
        Ok(Err(_elapsed)) => Err(NodeError {
            message: format!(
                "the node took longer than its {} s timeout",
                timeout.as_secs_f64()
            ),
            cause: Some(FailureCause::Timeout),
        }),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            // The message may quote a value; it is masked with the node's error, not logged.
            tracing::error!(node = %id, "a node panicked");
            Err(NodeError {
                message: format!(
                    "internal error in node `{id}`; please report it (the node panicked: {what})"
                ),
                cause: Some(FailureCause::Other),
            })
        }
    };
    (id, result)
}
