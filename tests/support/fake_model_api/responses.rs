//! OpenAI Responses answers (`POST /v1/responses`, always streamed), as Codex reads them.

use serde_json::{Value, json};

use super::reply::Reply;
use super::sse::Events;

/// The output item of the answer.
fn item(reply: &Reply, serial: u64) -> Result<Value, String> {
    match reply {
        Reply::Text(text) => Ok(json!({
            "type": "message", "role": "assistant", "id": format!("msg_fake_{serial}"), "status": "completed",
            "content": [{ "type": "output_text", "text": text, "annotations": [] }],
        })),
        Reply::ToolCall { name, arguments } => Ok(json!({
            "type": "function_call", "id": format!("fc_fake_{serial}"), "call_id": format!("call_fake_{serial}"),
            "name": name, "arguments": arguments.to_string(), "status": "completed",
        })),
        Reply::CustomToolCall { name, input } => Ok(json!({
            "type": "custom_tool_call", "id": format!("ctc_fake_{serial}"), "call_id": format!("call_fake_{serial}"),
            "name": name, "input": input, "status": "completed",
        })),
        other => Err(format!("{other:?} is not a Responses answer")),
    }
}

/// The SSE stream: `response.created`, the item added (with a text delta for a message) and done,
/// `response.completed` with usage.
pub(super) fn stream(reply: &Reply, serial: u64) -> Result<String, String> {
    let item = item(reply, serial)?;
    let id = format!("resp_fake_{serial}");
    let mut events = Events::default();
    events.typed(
        json!({ "type": "response.created", "response": { "id": id, "status": "in_progress" } }),
    );
    events.typed(json!({ "type": "response.output_item.added", "output_index": 0, "item": item }));
    if let Reply::Text(text) = reply {
        events.typed(json!({
            "type": "response.output_text.delta", "item_id": item["id"], "output_index": 0,
            "content_index": 0, "delta": text,
        }));
    }
    events.typed(json!({ "type": "response.output_item.done", "output_index": 0, "item": item }));
    events.typed(json!({
        "type": "response.completed",
        "response": {
            "id": id, "status": "completed",
            "usage": {
                "input_tokens": 10, "input_tokens_details": { "cached_tokens": 0 },
                "output_tokens": 5, "output_tokens_details": { "reasoning_tokens": 0 },
                "total_tokens": 15,
            },
        },
    }));
    Ok(events.into_body())
}
