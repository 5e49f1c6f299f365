//! Content Safety (Text): one text analysis, and the verdict Prompt flow's tool gives: each
//! judged category Accept or Reject by its threshold, Reject overall when any category rejects
//! or any blocklist matches.

use serde_json::{Map, Value, json};
use weft_ai::content_safety::{AnalyzeRequest, Category, OutputType};
use weft_flow::kinds::content_safety_text::{self, Props, Sensitivity};

use super::{NodeContext, NodeDone, NodeError, call_service, props, saved};
use crate::connection::ResolvedConnection;

pub(super) async fn run(ctx: &NodeContext) -> Result<NodeDone, NodeError> {
    let props = props(ctx, Props::from_evaluated)?;
    let target = saved(
        ctx,
        &props.connection,
        ResolvedConnection::into_content_safety,
    )
    .await?;
    let judged = [
        (Category::Hate, props.hate),
        (Category::SelfHarm, props.self_harm),
        (Category::Sexual, props.sexual),
        (Category::Violence, props.violence),
    ];
    let request = AnalyzeRequest {
        text: props.text.clone(),
        categories: judged
            .iter()
            .filter(|(_, sensitivity)| sensitivity.threshold().is_some())
            .map(|(category, _)| *category)
            .collect(),
        blocklist_names: props.blocklist_names.clone(),
        halt_on_blocklist_hit: props.halt_on_blocklist_hit,
        output_type: match props.output_type {
            content_safety_text::OutputType::FourSeverityLevels => OutputType::FourSeverityLevels,
            content_safety_text::OutputType::EightSeverityLevels => OutputType::EightSeverityLevels,
        },
    };
    let analysis = call_service(ctx, |handles| async move {
        let port = &ctx.services.content_safety;
        port.analyze(&target, &request, &handles).await
    })
    .await?;

    let mut actions = Map::new();
    let mut severities = Map::new();
    let mut reject = !analysis.blocklists_match.is_empty();
    for (category, sensitivity) in judged {
        // A disabled category is not asked for; with no category named the service analyses
        // all four, and a disabled one's severity is not the node's to report.
        let severity = match sensitivity {
            Sensitivity::Disable => None,
            _ => analysis.severity(category),
        };
        // No severity for a judged category: the service stopped at a blocklist match
        // (halt_on_blocklist_hit), which rejects the text already.
        let rejects =
            matches!((sensitivity.threshold(), severity), (Some(at), Some(found)) if found >= at);
        reject |= rejects;
        actions.insert(category.as_str().to_owned(), json!(verdict(rejects)));
        severities.insert(category.as_str().to_owned(), json!(severity));
    }
    let matches: Vec<Value> = analysis
        .blocklists_match
        .iter()
        .map(|hit| {
            json!({
                "blocklist_name": hit.blocklist_name,
                "item_id": hit.blocklist_item_id,
                "item_text": hit.blocklist_item_text,
            })
        })
        .collect();
    let suggested = verdict(reject);
    let output = json!({
        "suggested_action": suggested,
        "action_by_category": actions,
        "severity_by_category": severities,
        "blocklist_matches": matches,
    });
    Ok(NodeDone {
        ports: Map::from_iter([
            ("output".to_owned(), output),
            ("suggested_action".to_owned(), json!(suggested)),
        ]),
        usage: None,
        set_var: None,
    })
}

fn verdict(reject: bool) -> &'static str {
    if reject { "Reject" } else { "Accept" }
}
