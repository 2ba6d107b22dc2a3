//! Web API answers: always a JSON object with `ok`. Success is HTTP 200
//! `{"ok":true,…}`; errors are HTTP 200 `{"ok":false,"error":"…"}` except the
//! two Slack answers with other statuses: 429 (with `Retry-After`) for
//! `ratelimited` and 404 for `unknown_method`. Warnings travel as Slack sends
//! them: `"warning":"a,b"` plus `response_metadata.warnings`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, PartialEq)]
pub(super) struct ApiError {
    pub status: StatusCode,
    pub error: String,
    pub retry_after: Option<u32>,
    /// Extra fields of the error body (`response_metadata.messages`, …).
    pub extra: Map<String, Value>,
}

impl ApiError {
    /// An `ok: false` answer with HTTP 200, Slack's usual error.
    pub fn new(error: &str) -> Self {
        Self {
            status: StatusCode::OK,
            error: error.to_string(),
            retry_after: None,
            extra: Map::new(),
        }
    }

    pub fn unknown_method() -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            ..Self::new("unknown_method")
        }
    }

    pub fn ratelimited(retry_after: u32) -> Self {
        Self {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after: Some(retry_after),
            ..Self::new("ratelimited")
        }
    }

    /// HTTP 500: Slack's own trouble.
    pub fn server_error() -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            ..Self::new("internal_error")
        }
    }

    /// `invalid_arguments` with Slack's explanatory
    /// `response_metadata.messages`.
    pub fn invalid_arguments(message: &str) -> Self {
        let mut e = Self::new("invalid_arguments");
        e.extra.insert(
            "response_metadata".into(),
            json!({ "messages": [format!("[ERROR] {message}")] }),
        );
        e
    }
}

pub(super) type Reply = Result<Map<String, Value>, ApiError>;

/// The fields of a success, in order, after `"ok": true`.
pub(super) fn fields(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

pub(super) fn into_response(reply: &Reply, warnings: &[&str]) -> Response {
    let (status, mut body, retry_after) = match reply {
        Ok(map) => {
            let mut body = Map::new();
            body.insert("ok".into(), Value::Bool(true));
            body.extend(map.clone());
            (StatusCode::OK, body, None)
        }
        Err(e) => {
            let mut body = Map::new();
            body.insert("ok".into(), Value::Bool(false));
            body.insert("error".into(), Value::String(e.error.clone()));
            body.extend(e.extra.clone());
            (e.status, body, e.retry_after)
        }
    };
    if !warnings.is_empty() {
        body.insert("warning".into(), Value::String(warnings.join(",")));
        let meta = body.entry("response_metadata").or_insert_with(|| json!({}));
        if let Value::Object(meta) = meta {
            meta.insert("warnings".into(), json!(warnings));
        }
    }
    let mut response = (status, axum::Json(Value::Object(body))).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    if let Some(secs) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}
