//! HTTP request: puts the custom connection's settings into what is sent (and only there),
//! sends it, and outputs the reply, its status and headers.

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Map, Value, json};
use weft_ai::ApiKey;
use weft_ai::http::{HttpBody, HttpRequest};
use weft_flow::kinds::http_request::{BASE_URL_CONFIG, Props};
use weft_flow::{ConnectionSection, Source, find_references};

use super::{NodeContext, NodeDone, NodeError, call_service, props, saved};
use crate::connection::{CustomSettings, ResolvedConnection};
use crate::values::revive;

pub(super) async fn run(ctx: &NodeContext) -> Result<NodeDone, NodeError> {
    let props = props(ctx, Props::from_evaluated)?;
    let settings = match &props.connection {
        Some(name) => Some(saved(ctx, name, ResolvedConnection::into_custom).await?),
        None => None,
    };
    let used_secret = AtomicBool::new(false);
    let fill = |text: &str| fill(text, settings.as_ref(), &used_secret);
    let request = HttpRequest {
        method: props.method.as_str().to_owned(),
        url: fill(&props.url)?,
        headers: fill_pairs(&props.headers, &fill)?,
        query: fill_pairs(&props.query, &fill)?,
        body: props
            .body
            .as_ref()
            .map(|body| fill_value(body, &fill))
            .transpose()?,
        secrets: settings
            .iter()
            .flat_map(|settings| settings.secrets.values().cloned())
            .collect::<Vec<ApiKey>>(),
        // Secrets may only go to the host the connection names (the client refuses any other).
        secret_origin: settings
            .as_ref()
            .and_then(|settings| settings.configs.get(BASE_URL_CONFIG).cloned()),
    };
    if used_secret.load(Ordering::Relaxed) && request.secret_origin.is_none() {
        return Err(NodeError::from(format!(
            "the request reads a secret of connection `{}`, which has no `{BASE_URL_CONFIG}` config to say where its secrets may go; add {BASE_URL_CONFIG} (such as https://api.example.com) to the connection",
            props.connection.as_deref().unwrap_or_default()
        )));
    }
    let reply = call_service(ctx, |handles| async move {
        ctx.services.http.send(&request, &handles).await
    })
    .await?;
    let mut headers = Map::new();
    for (name, value) in reply.headers {
        match headers.get_mut(&name) {
            // Repeated headers read as one, joined as RFC 9110 §5.3 allows.
            Some(Value::String(seen)) => {
                seen.push_str(", ");
                seen.push_str(&value);
            }
            _ => {
                headers.insert(name, Value::String(value));
            }
        }
    }
    let output = match reply.body {
        HttpBody::Json(value) => value,
        HttpBody::Text(text) => Value::String(text),
    };
    Ok(NodeDone {
        ports: Map::from_iter([
            ("output".to_owned(), output),
            ("status".to_owned(), json!(reply.status)),
            ("headers".to_owned(), Value::Object(headers)),
        ]),
        usage: None,
        set_var: None,
    })
}

/// `text` with each `${connection.…}` replaced by the connection's setting (`used_secret` set
/// when one is a secret). The engine left these as written; nothing else is a reference by
/// now, and text an upstream node gave that is no reference is sent as it is.
fn fill(
    text: &str,
    settings: Option<&CustomSettings>,
    used_secret: &AtomicBool,
) -> Result<String, String> {
    let Ok(references) = find_references(text) else {
        return Ok(revive(text));
    };
    let mut out = String::new();
    let mut at = 0;
    for reference in &references {
        let Source::Connection { section, key } = &reference.source else {
            continue;
        };
        let written = &text[reference.span.clone()];
        let Some(settings) = settings else {
            return Err(format!(
                "`{written}` reads the node's connection, and it has none; choose a custom connection"
            ));
        };
        let value = match section {
            ConnectionSection::Configs => settings.configs.get(key).map(String::as_str),
            ConnectionSection::Secrets => {
                used_secret.store(true, Ordering::Relaxed);
                settings.secrets.get(key).map(ApiKey::expose)
            }
        };
        let Some(value) = value else {
            let keys: Vec<&str> = match section {
                ConnectionSection::Configs => settings.configs.keys().map(String::as_str).collect(),
                ConnectionSection::Secrets => settings.secrets.keys().map(String::as_str).collect(),
            };
            return Err(format!(
                "`{written}`: connection `{}` has no {} `{key}` (it has {}); add it to the connection or fix the name",
                settings.name,
                section.one(),
                if keys.is_empty() {
                    "none".to_owned()
                } else {
                    keys.join(", ")
                }
            ));
        };
        out.push_str(&text[at..reference.span.start]);
        out.push_str(value);
        at = reference.span.end;
    }
    out.push_str(&text[at..]);
    Ok(revive(&out))
}

fn fill_pairs(
    pairs: &[(String, String)],
    fill: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Vec<(String, String)>, String> {
    pairs
        .iter()
        .map(|(name, value)| Ok((name.clone(), fill(value)?)))
        .collect()
}

/// A JSON body with the settings put into its strings.
fn fill_value(
    value: &Value,
    fill: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Value, String> {
    Ok(match value {
        Value::String(text) => Value::String(fill(text)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| fill_value(item, fill))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), fill_value(v, fill)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}
