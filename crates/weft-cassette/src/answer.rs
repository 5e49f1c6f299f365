//! The answers a cassette keeps, one form per service. weft-ai's answer types are built for
//! reading services, not for writing down, so each has a stored form here that says every
//! field it keeps. The service's request id is not kept: it names a call for a support case,
//! and a replayed answer was no call (and a new id each recording would fill every diff).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use weft_ai::content_safety::{Analysis, BlocklistMatch, CategoryAnalysis};
use weft_ai::http::{HttpBody, HttpResponse};
use weft_ai::search::Document;
use weft_ai::serp::OrganicResult;
use weft_ai::{ChatResponse, EmbeddingsResponse, FinishReason, ToolCall, Usage};

use crate::canonical::Service;
use crate::tape::Line;

/// An answer a cassette can write down and give back.
pub(crate) trait Recordable: Sized {
    type Stored: Serialize + DeserializeOwned;
    fn store(&self) -> Self::Stored;
    fn restore(stored: Self::Stored) -> Self;
}

/// `answer` as a line's `response`. Through the JSON text, so an `f32` reads as it was
/// received (0.1, not 0.10000000149011612).
pub(crate) fn encode<T: Recordable>(answer: &T) -> Result<Value, String> {
    let text = serde_json::to_vec(&answer.store()).map_err(|err| err.to_string())?;
    serde_json::from_slice(&text).map_err(|err| err.to_string())
}

pub(crate) fn decode<T: Recordable>(response: &Value) -> Result<T, String> {
    T::Stored::deserialize(response)
        .map(T::restore)
        .map_err(|err| err.to_string())
}

/// Whether `line` holds an answer of its service's form (a streamed chat, its chunks too).
pub(crate) fn check(line: &Line) -> Result<(), String> {
    let response = &line.response;
    match line.service {
        Service::Chat => {
            if line.request.get("stream") == Some(&Value::Bool(true)) && line.chunks.is_none() {
                return Err("a streamed chat completion without its `chunks`".to_owned());
            }
            decode::<ChatResponse>(response).map(drop)
        }
        Service::Embeddings => decode::<EmbeddingsResponse>(response).map(drop),
        Service::ContentSafety => decode::<Analysis>(response).map(drop),
        Service::WebSearch => decode::<Vec<OrganicResult>>(response).map(drop),
        Service::DocumentSearch => decode::<Vec<Document>>(response).map(drop),
        Service::Http => decode::<HttpResponse>(response).map(drop),
    }
    .map_err(|err| format!("the {} answer does not fit: {err}", line.service.noun()))
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredChat {
    text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ToolCall>,
    finish_reason: Option<FinishReason>,
    usage: Option<Usage>,
    model: Option<String>,
}

impl Recordable for ChatResponse {
    type Stored = StoredChat;

    fn store(&self) -> StoredChat {
        StoredChat {
            text: self.text.clone(),
            tool_calls: self.tool_calls.clone(),
            finish_reason: self.finish_reason,
            usage: self.usage.clone(),
            model: self.model.clone(),
        }
    }

    fn restore(stored: StoredChat) -> Self {
        Self {
            text: stored.text,
            tool_calls: stored.tool_calls,
            finish_reason: stored.finish_reason,
            usage: stored.usage,
            model: stored.model,
            request_id: None,
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredEmbeddings {
    vectors: Vec<Vec<f32>>,
    usage: Option<Usage>,
    model: Option<String>,
}

impl Recordable for EmbeddingsResponse {
    type Stored = StoredEmbeddings;

    fn store(&self) -> StoredEmbeddings {
        StoredEmbeddings {
            vectors: self.vectors.clone(),
            usage: self.usage.clone(),
            model: self.model.clone(),
        }
    }

    fn restore(stored: StoredEmbeddings) -> Self {
        Self {
            vectors: stored.vectors,
            usage: stored.usage,
            model: stored.model,
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredAnalysis {
    #[serde(default)]
    blocklists_match: Vec<StoredBlocklistMatch>,
    categories_analysis: Vec<StoredCategory>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredBlocklistMatch {
    blocklist_name: String,
    blocklist_item_id: String,
    blocklist_item_text: String,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredCategory {
    category: String,
    severity: Option<u8>,
}

impl Recordable for Analysis {
    type Stored = StoredAnalysis;

    fn store(&self) -> StoredAnalysis {
        StoredAnalysis {
            blocklists_match: self
                .blocklists_match
                .iter()
                .map(|found| StoredBlocklistMatch {
                    blocklist_name: found.blocklist_name.clone(),
                    blocklist_item_id: found.blocklist_item_id.clone(),
                    blocklist_item_text: found.blocklist_item_text.clone(),
                })
                .collect(),
            categories_analysis: self
                .categories_analysis
                .iter()
                .map(|rated| StoredCategory {
                    category: rated.category.clone(),
                    severity: rated.severity,
                })
                .collect(),
        }
    }

    fn restore(stored: StoredAnalysis) -> Self {
        Self {
            blocklists_match: stored
                .blocklists_match
                .into_iter()
                .map(|found| BlocklistMatch {
                    blocklist_name: found.blocklist_name,
                    blocklist_item_id: found.blocklist_item_id,
                    blocklist_item_text: found.blocklist_item_text,
                })
                .collect(),
            categories_analysis: stored
                .categories_analysis
                .into_iter()
                .map(|rated| CategoryAnalysis {
                    category: rated.category,
                    severity: rated.severity,
                })
                .collect(),
            request_id: None,
        }
    }
}

impl Recordable for Vec<OrganicResult> {
    type Stored = Vec<OrganicResult>;

    fn store(&self) -> Self::Stored {
        self.clone()
    }

    fn restore(stored: Self::Stored) -> Self {
        stored
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredDocument {
    score: f64,
    fields: Map<String, Value>,
}

impl Recordable for Vec<Document> {
    type Stored = Vec<StoredDocument>;

    fn store(&self) -> Self::Stored {
        self.iter()
            .map(|document| StoredDocument {
                score: document.score,
                fields: document.fields.clone(),
            })
            .collect()
    }

    fn restore(stored: Self::Stored) -> Self {
        stored
            .into_iter()
            .map(|document| Document {
                score: document.score,
                fields: document.fields,
            })
            .collect()
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredHttp {
    status: u16,
    headers: Vec<(String, String)>,
    body: StoredBody,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StoredBody {
    Json(Value),
    Text(String),
}

impl Recordable for HttpResponse {
    type Stored = StoredHttp;

    fn store(&self) -> StoredHttp {
        StoredHttp {
            status: self.status,
            headers: self.headers.clone(),
            body: match &self.body {
                HttpBody::Json(value) => StoredBody::Json(value.clone()),
                HttpBody::Text(text) => StoredBody::Text(text.clone()),
            },
        }
    }

    fn restore(stored: StoredHttp) -> Self {
        Self {
            status: stored.status,
            headers: stored.headers,
            body: match stored.body {
                StoredBody::Json(value) => HttpBody::Json(value),
                StoredBody::Text(text) => HttpBody::Text(text),
            },
        }
    }
}
