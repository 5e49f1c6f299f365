//! The assertions that call a model: `llm_judge` (a chat call answering in a JSON schema) and
//! `similar` (the cosine of two embeddings).

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::json;
use weft_ai::{Call, ChatRequest, EmbeddingsRequest, Message, ResponseFormat, Role};
use weft_engine::Target;

use crate::check::{Found, Models};

/// The least cosine similarity `similar` passes with when the assertion gives no `threshold`.
pub(crate) const SIMILAR_THRESHOLD: f64 = 0.8;

const JUDGE_INSTRUCTIONS: &str = "You grade the answer of an AI system against a rubric. \
Judge only what the rubric asks. Reply with JSON: `pass` (true when the answer meets the rubric), \
`score` (from 0, not at all, to 1, fully) and `reason` (one short sentence saying why).";

/// Saved model connections, looked up once per name: the keychain may block or prompt, and rows
/// are checked concurrently, so the first lookup holds the others until it is known. A lookup
/// that failed is kept too: a thousand rows do not ask a thousand times.
#[derive(Default)]
pub(crate) struct Targets(tokio::sync::Mutex<HashMap<String, Result<Target, String>>>);

impl Targets {
    pub(crate) async fn model(&self, models: &Models, name: &str) -> Result<Target, String> {
        let mut known = self.0.lock().await;
        if let Some(known) = known.get(name) {
            return known.clone();
        }
        let target = Self::look_up(models, name).await;
        known.insert(name.to_owned(), target.clone());
        target
    }

    async fn look_up(models: &Models, name: &str) -> Result<Target, String> {
        let resolved = match models.connections.at_hand(name) {
            Some(found) => found,
            None => {
                let source = models.connections.clone();
                let owned = name.to_owned();
                tokio::task::spawn_blocking(move || source.connection(&owned))
                    .await
                    .map_err(|err| format!("internal: the connection lookup stopped ({err})"))?
            }
        }
        .map_err(|err| format!("connection `{name}`: {err}"))?;
        resolved.into_model().map_err(|err| err.to_string())
    }
}

/// The judge's answer, as the response format asks for it.
#[derive(Deserialize)]
struct Judgement {
    pass: bool,
    score: f64,
    reason: String,
}

/// The structured-output response format: `{"type": "json_schema", "json_schema": {name,
/// strict, schema}}`, strict schemas listing every property as required with no others
/// (https://platform.openai.com/docs/guides/structured-outputs; the same on Azure OpenAI:
/// https://learn.microsoft.com/azure/ai-foundry/openai/how-to/structured-outputs).
fn judgement_format() -> ResponseFormat {
    ResponseFormat::JsonSchema {
        json_schema: json!({
            "name": "judgement",
            "strict": true,
            "schema": {
                "type": "object",
                "properties": {
                    "pass": { "type": "boolean" },
                    "score": { "type": "number", "description": "0 to 1" },
                    "reason": { "type": "string" },
                },
                "required": ["pass", "score", "reason"],
                "additionalProperties": false,
            },
        }),
    }
}

fn judge_prompt(rubric: &str, output: &str, expected: Option<&str>) -> String {
    let mut prompt = format!("Rubric:\n{rubric}\n\nAnswer to grade:\n{output}\n");
    if let Some(expected) = expected {
        prompt.push_str(&format!("\nExpected answer (for reference):\n{expected}\n"));
    }
    prompt
}

/// Asks the judge; passes when it says so and its score reaches `threshold` (when given).
pub(crate) async fn llm_judge(
    models: &Models,
    target: &Target,
    deployment: &str,
    rubric: &str,
    output: &str,
    expected: Option<&str>,
    threshold: Option<f64>,
) -> Found {
    let request = ChatRequest {
        messages: vec![
            Message::new(Role::System, JUDGE_INSTRUCTIONS),
            Message::new(Role::User, judge_prompt(rubric, output, expected)),
        ],
        temperature: Some(0.0),
        response_format: Some(judgement_format()),
        ..ChatRequest::default()
    };
    let call = Call {
        endpoint: &target.endpoint,
        credential: &target.credential,
        deployment: Some(deployment),
        cancel: models.cancel.clone(),
        events: None,
    };
    let answer = match tokio::time::timeout(
        models.node_timeout,
        models.services.model.chat(&call, &request),
    )
    .await
    {
        Ok(Ok(answer)) => answer,
        Ok(Err(err)) => return Found::fail(format!("the judge could not answer: {err}")),
        Err(_) => {
            return Found::fail(format!(
                "the judge took longer than the {} s timeout",
                models.node_timeout.as_secs_f64()
            ));
        }
    };
    let judgement: Judgement = match serde_json::from_str(&answer.text) {
        Ok(judgement) => judgement,
        Err(err) => {
            return Found::fail(format!(
                "the judge's answer is not the JSON asked for ({err})"
            ));
        }
    };
    let score = judgement.score.clamp(0.0, 1.0);
    let pass = judgement.pass && threshold.is_none_or(|least| score >= least);
    let below = match threshold {
        Some(least) if judgement.pass && score < least => format!(" (score below {least})"),
        _ => String::new(),
    };
    Found {
        pass,
        score,
        reason: format!("judge: {}{below}", judgement.reason.trim()),
    }
}

/// Embeds both texts in one call; passes when their cosine similarity reaches `threshold`.
pub(crate) async fn similar(
    models: &Models,
    target: &Target,
    deployment: &str,
    output: &str,
    expected: &str,
    threshold: f64,
) -> Found {
    let request = EmbeddingsRequest {
        input: vec![output.to_owned(), expected.to_owned()],
        dimensions: None,
    };
    let call = Call {
        endpoint: &target.endpoint,
        credential: &target.credential,
        deployment: Some(deployment),
        cancel: models.cancel.clone(),
        events: None,
    };
    let reply = match tokio::time::timeout(
        models.node_timeout,
        models.services.model.embeddings(&call, &request),
    )
    .await
    {
        Ok(Ok(reply)) => reply,
        Ok(Err(err)) => return Found::fail(format!("the embeddings call failed: {err}")),
        Err(_) => {
            return Found::fail(format!(
                "the embeddings call took longer than the {} s timeout",
                models.node_timeout.as_secs_f64()
            ));
        }
    };
    let [a, b] = reply.vectors.as_slice() else {
        return Found::fail(format!(
            "the embeddings call gave {} vectors for 2 texts",
            reply.vectors.len()
        ));
    };
    let Some(cosine) = cosine(a, b) else {
        return Found::fail("the embeddings are empty or of different lengths".into());
    };
    Found {
        pass: cosine >= threshold,
        score: cosine.clamp(0.0, 1.0),
        reason: format!("cosine similarity {cosine:.3} (at least {threshold})"),
    }
}

fn cosine(a: &[f32], b: &[f32]) -> Option<f64> {
    if a.len() != b.len() || a.is_empty() {
        return None;
    }
    let (mut dot, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (f64::from(*x), f64::from(*y));
        dot += x * y;
        aa += x * x;
        bb += y * y;
    }
    let norm = aa.sqrt() * bb.sqrt();
    (norm > 0.0).then(|| dot / norm)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cosine_of_same_opposite_and_orthogonal_vectors() {
        assert!((cosine(&[1.0, 2.0], &[2.0, 4.0]).unwrap() - 1.0).abs() < 1e-9);
        assert!((cosine(&[1.0, 0.0], &[-1.0, 0.0]).unwrap() + 1.0).abs() < 1e-9);
        assert!(cosine(&[1.0, 0.0], &[0.0, 1.0]).unwrap().abs() < 1e-9);
        assert_eq!(cosine(&[1.0], &[1.0, 2.0]), None);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 2.0]), None);
    }
}
