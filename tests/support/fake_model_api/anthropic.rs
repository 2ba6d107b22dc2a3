//! Anthropic Messages answers (`POST /v1/messages`), as Claude Code reads them.

use serde_json::{Value, json};

use super::reply::Reply;
use super::sse::Events;

/// The one content block of the answer, and the `stop_reason` it ends with.
fn block(reply: &Reply, serial: u64) -> Result<(Value, &'static str), String> {
    match reply {
        Reply::Text(text) => Ok((json!({ "type": "text", "text": text }), "end_turn")),
        Reply::ToolCall { name, arguments } => Ok((
            json!({ "type": "tool_use", "id": format!("toolu_fake_{serial}"), "name": name, "input": arguments }),
            "tool_use",
        )),
        other => Err(format!("{other:?} is not an Anthropic Messages answer")),
    }
}

fn usage() -> Value {
    json!({
        "input_tokens": 10,
        "output_tokens": 5,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    })
}

/// The answer as one JSON message (`stream: false`).
pub(super) fn message(reply: &Reply, model: &str, serial: u64) -> Result<Value, String> {
    let (block, stop_reason) = block(reply, serial)?;
    Ok(json!({
        "id": format!("msg_fake_{serial}"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [block],
        "stop_reason": stop_reason,
        "stop_sequence": null,
        "usage": usage(),
    }))
}

/// The answer as the SSE stream (`stream: true`): the block's content comes in one delta.
pub(super) fn stream(reply: &Reply, model: &str, serial: u64) -> Result<String, String> {
    let (block, stop_reason) = block(reply, serial)?;
    let mut events = Events::default();
    let mut start_usage = usage();
    start_usage["output_tokens"] = json!(1);
    events.typed(json!({
        "type": "message_start",
        "message": {
            "id": format!("msg_fake_{serial}"), "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": null, "stop_sequence": null, "usage": start_usage,
        },
    }));
    let (empty, delta) = match block["type"].as_str() {
        Some("text") => (
            json!({ "type": "text", "text": "" }),
            json!({ "type": "text_delta", "text": block["text"] }),
        ),
        _ => (
            json!({ "type": "tool_use", "id": block["id"], "name": block["name"], "input": {} }),
            json!({ "type": "input_json_delta", "partial_json": block["input"].to_string() }),
        ),
    };
    events.typed(json!({ "type": "content_block_start", "index": 0, "content_block": empty }));
    events.typed(json!({ "type": "content_block_delta", "index": 0, "delta": delta }));
    events.typed(json!({ "type": "content_block_stop", "index": 0 }));
    events.typed(json!({
        "type": "message_delta",
        "delta": { "stop_reason": stop_reason, "stop_sequence": null },
        "usage": { "output_tokens": 5 },
    }));
    events.typed(json!({ "type": "message_stop" }));
    Ok(events.into_body())
}
