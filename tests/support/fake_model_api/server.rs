//! Routing, recording and answering: every request is recorded (and waiters woken) before it is
//! answered, so a test that sees a CLI's output finds the request that caused it.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::api::{RecordedRequest, Shared, WireApi};
use super::reply::{self, Reply};
use super::{anthropic, chat, responses};

/// A resumed turn re-sends the whole conversation; allow long ones.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// What side requests (no tools offered: OpenCode's session title) are answered.
const SIDE_ANSWER: &str = "Fake title";

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .fallback(handle)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(shared)
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let api = WireApi::of(method.as_str(), uri.path());
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let offers_tools = body["tools"].as_array().is_some_and(|t| !t.is_empty());
    let turn = api.asks_the_model() && offers_tools;
    let (serial, reply) = {
        let mut state = shared.lock();
        state.serial += 1;
        let reply = if turn {
            state.queue.pop_front().unwrap_or_else(|| Reply::Error {
                status: 500,
                message: "fake model API: no reply queued for this request".into(),
            })
        } else {
            Reply::text(SIDE_ANSWER)
        };
        state.requests.push(RecordedRequest {
            method: method.to_string(),
            path: uri
                .path_and_query()
                .map_or_else(|| uri.path().to_string(), |p| p.to_string()),
            api,
            body: body.clone(),
            turn,
        });
        (state.serial, reply)
    };
    shared.changed.notify_waiters();
    match api {
        WireApi::Models => axum::Json(json!({
            "object": "list",
            "data": [{ "id": "fake-model", "object": "model", "type": "model", "display_name": "Fake model", "created_at": "2025-01-01T00:00:00Z", "owned_by": "fake" }],
            "has_more": false, "first_id": "fake-model", "last_id": "fake-model",
        }))
        .into_response(),
        WireApi::AnthropicCountTokens => axum::Json(json!({ "input_tokens": 42 })).into_response(),
        WireApi::Unknown => (
            StatusCode::NOT_FOUND,
            axum::Json(
                json!({ "error": { "message": format!("fake model API: no route {method} {}", uri.path()), "type": "not_found" } }),
            ),
        )
            .into_response(),
        _ => answer(api, &reply, &body, serial).await,
    }
}

/// The reply in the request's wire format.
async fn answer(api: WireApi, reply: &Reply, body: &Value, serial: u64) -> Response {
    let model = body["model"].as_str().unwrap_or("fake-model");
    let stream = body["stream"].as_bool().unwrap_or(false);
    let encoded = match (reply, api) {
        (Reply::Stall, _) => std::future::pending().await,
        (Reply::Error { status, message }, _) => return error(api, *status, message),
        (_, WireApi::AnthropicMessages) if stream => {
            anthropic::stream(reply, model, serial).map(sse)
        }
        (_, WireApi::AnthropicMessages) => anthropic::message(reply, model, serial).map(json_ok),
        (_, WireApi::ChatCompletions) if stream => chat::stream(reply, model, serial).map(sse),
        (_, WireApi::ChatCompletions) => chat::completion(reply, model, serial).map(json_ok),
        (_, _) => responses::stream(reply, serial).map(sse),
    };
    encoded.unwrap_or_else(|mistake| error(api, 400, &format!("fake model API: {mistake}")))
}

fn sse(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

fn json_ok(body: Value) -> Response {
    axum::Json(body).into_response()
}

/// The provider's error answer, with `retry-after-ms` so that retrying CLIs retry at once.
fn error(api: WireApi, status: u16, message: &str) -> Response {
    let body = if api == WireApi::AnthropicMessages {
        reply::anthropic_error(status, message)
    } else {
        reply::openai_error(status, message)
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [("retry-after-ms", reply::RETRY_AFTER_MS)],
        axum::Json(body),
    )
        .into_response()
}
