//! What a test queues as the model's next answer, and the error bodies each provider sends.

use serde_json::{Value, json};

/// The `retry-after-ms` every error answer carries: the CLIs that retry (OpenCode retries every
/// error five times, 2 s to 34 s apart) honour it, so an error turn ends in well under a second.
pub(super) const RETRY_AFTER_MS: &str = "10";

/// The model's answer to one turn request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Assistant text, ending the turn (`end_turn` / `stop`).
    Text(String),
    /// A call of one of the CLI's own tools with JSON arguments (Anthropic `tool_use`, Responses
    /// `function_call`, Chat Completions `tool_calls`); the CLI runs it and asks again.
    ToolCall { name: String, arguments: Value },
    /// A Responses `custom_tool_call` with free-form input: how Codex's `apply_patch` is called.
    CustomToolCall { name: String, input: String },
    /// An HTTP error status with the provider's error body carrying `message`.
    Error { status: u16, message: String },
    /// No answer at all while the connection stays open: for cancelling a CLI that waits on the API.
    Stall,
}

impl Reply {
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(text.into())
    }

    pub fn tool_call(name: impl Into<String>, arguments: Value) -> Self {
        Self::ToolCall {
            name: name.into(),
            arguments,
        }
    }

    pub fn custom_tool_call(name: impl Into<String>, input: impl Into<String>) -> Self {
        Self::CustomToolCall {
            name: name.into(),
            input: input.into(),
        }
    }

    /// An error answer with a message that names the status.
    pub fn error(status: u16) -> Self {
        Self::Error {
            status,
            message: format!("fake model API: HTTP {status}"),
        }
    }
}

/// Anthropic's error body: `{"type":"error","error":{"type":…,"message":…}}`.
pub(super) fn anthropic_error(status: u16, message: &str) -> Value {
    let kind = match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    };
    json!({ "type": "error", "error": { "type": kind, "message": message } })
}

/// OpenAI's error body: `{"error":{"message":…,"type":…,"param":null,"code":…}}`.
pub(super) fn openai_error(status: u16, message: &str) -> Value {
    let (kind, code) = match status {
        400 => ("invalid_request_error", Value::Null),
        401 => ("invalid_request_error", json!("invalid_api_key")),
        404 => ("invalid_request_error", json!("model_not_found")),
        429 => ("requests", json!("rate_limit_exceeded")),
        _ => ("server_error", Value::Null),
    };
    json!({ "error": { "message": message, "type": kind, "param": null, "code": code } })
}
