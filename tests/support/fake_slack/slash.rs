//! Slash commands: a person runs one, the app answers through the ack
//! payload (Socket Mode), the body of its HTTP answer, or later through the
//! command's `response_url` (`POST /response-url/{trigger_id}` on the fake,
//! answered `200 ok` like Slack's hooks). Each answer's `text` is what the
//! person sees; `response_type` defaults to `ephemeral`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::state::{Shared, State as FakeState};
use super::types::{SlashResponse, SlashResponseVia};

/// Records an answer; a body that is not a JSON object is plain text.
pub(super) fn record_response(
    st: &mut FakeState,
    trigger_id: &str,
    via: SlashResponseVia,
    body: Value,
) {
    let body = match body {
        Value::String(text) => json!({ "text": text }),
        other => other,
    };
    st.slash_responses.push(SlashResponse {
        trigger_id: trigger_id.to_string(),
        via,
        text: body["text"].as_str().unwrap_or_default().to_string(),
        response_type: body["response_type"]
            .as_str()
            .unwrap_or("ephemeral")
            .to_string(),
        body,
    });
}

/// An HTTP answer body as a slash response, if it says anything.
pub(super) fn parse_body(body: &[u8]) -> Option<Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    Some(
        serde_json::from_slice::<Value>(body)
            .ok()
            .filter(Value::is_object)
            .unwrap_or_else(|| Value::String(String::from_utf8_lossy(body).into_owned())),
    )
}

pub(super) async fn response_url(
    State(sh): State<Arc<Shared>>,
    Path(trigger_id): Path<String>,
    body: Bytes,
) -> Response {
    {
        let mut st = sh.lock();
        if !st
            .slash_invocations
            .iter()
            .any(|i| i.trigger_id == trigger_id)
        {
            return (StatusCode::NOT_FOUND, "no_active_hooks").into_response();
        }
        let Some(body) = parse_body(&body) else {
            return (StatusCode::BAD_REQUEST, "no_text").into_response();
        };
        record_response(&mut st, &trigger_id, SlashResponseVia::ResponseUrl, body);
    }
    sh.notify_changed();
    (StatusCode::OK, "ok").into_response()
}
