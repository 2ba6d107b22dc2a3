//! OpenAI Chat Completions answers (`POST /v1/chat/completions`), as OpenCode's openai-compatible
//! provider reads them.

use serde_json::{Value, json};

use super::reply::Reply;
use super::sse::Events;

/// The answer's message delta and its `finish_reason`.
fn delta(reply: &Reply, serial: u64) -> Result<(Value, &'static str), String> {
    match reply {
        Reply::Text(text) => Ok((json!({ "content": text }), "stop")),
        Reply::ToolCall { name, arguments } => Ok((
            json!({ "tool_calls": [{
                "index": 0, "id": format!("call_fake_{serial}"), "type": "function",
                "function": { "name": name, "arguments": arguments.to_string() },
            }] }),
            "tool_calls",
        )),
        other => Err(format!("{other:?} is not a Chat Completions answer")),
    }
}

fn usage() -> Value {
    json!({ "prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15 })
}

/// The answer as one `chat.completion` (`stream: false`).
pub(super) fn completion(reply: &Reply, model: &str, serial: u64) -> Result<Value, String> {
    let (delta, finish_reason) = delta(reply, serial)?;
    let mut message = json!({ "role": "assistant", "content": null });
    for (key, value) in delta.as_object().into_iter().flatten() {
        message[key] = value.clone();
    }
    Ok(json!({
        "id": format!("chatcmpl-fake-{serial}"), "object": "chat.completion", "created": 0, "model": model,
        "choices": [{ "index": 0, "message": message, "finish_reason": finish_reason }],
        "usage": usage(),
    }))
}

/// The SSE stream: a role chunk, the content or tool-call chunk, the finish chunk, a usage chunk
/// (asked for with `stream_options.include_usage`), `[DONE]`.
pub(super) fn stream(reply: &Reply, model: &str, serial: u64) -> Result<String, String> {
    let (delta, finish_reason) = delta(reply, serial)?;
    let chunk = |choices: Value| {
        json!({
            "id": format!("chatcmpl-fake-{serial}"), "object": "chat.completion.chunk",
            "created": 0, "model": model, "choices": choices,
        })
    };
    let mut events = Events::default();
    let choice = |delta: Value, finish: Value| json!([{ "index": 0, "delta": delta, "finish_reason": finish }]);
    events.data(
        &chunk(choice(
            json!({ "role": "assistant", "content": "" }),
            Value::Null,
        ))
        .to_string(),
    );
    events.data(&chunk(choice(delta, Value::Null)).to_string());
    events.data(&chunk(choice(json!({}), json!(finish_reason))).to_string());
    let mut totals = chunk(json!([]));
    totals["usage"] = usage();
    events.data(&totals.to_string());
    events.data("[DONE]");
    Ok(events.into_body())
}
