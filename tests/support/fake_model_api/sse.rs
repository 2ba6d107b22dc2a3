//! Server-sent events as the providers write them: `event: NAME` (Anthropic, Responses) or bare
//! `data:` lines (Chat Completions), each event ended by a blank line.

use serde_json::Value;

/// An SSE body being written.
#[derive(Default)]
pub(super) struct Events {
    body: String,
}

impl Events {
    /// An event whose `event:` name is its JSON's `type`, as Anthropic and Responses send them.
    pub(super) fn typed(&mut self, data: Value) {
        let name = data["type"].as_str().unwrap_or_default().to_string();
        self.body
            .push_str(&format!("event: {name}\ndata: {data}\n\n"));
    }

    /// A bare `data:` event (Chat Completions; `[DONE]` is one too).
    pub(super) fn data(&mut self, data: &str) {
        self.body.push_str(&format!("data: {data}\n\n"));
    }

    pub(super) fn into_body(self) -> String {
        self.body
    }
}
