//! The Chrome DevTools Protocol over Chromium's `--remote-debugging-pipe`: JSON messages, each
//! ended by a NUL byte, written to the browser's fd 3 and read from its fd 4 — here the two
//! directions of a [`Conversation`] with a host command.
//!
//! A pipe rather than `--remote-debugging-port`: a port on the host would let any local user
//! drive the browser, and reaching it would need port forwarding; the pipe is private to the one
//! command, and the browser exits when it closes.

use bytes::Bytes;
use serde_json::{Value, json};

use super::{CaptureError, NOT_INSTALLED};
use crate::runner::transport::{Conversation, StreamEvent};

/// A DevTools client on one conversation.
pub struct Cdp {
    conversation: Conversation,
    next_id: u64,
    /// Bytes read after the last complete message.
    buffer: Vec<u8>,
    /// Events read while waiting for a command's answer, oldest first.
    events: Vec<Value>,
}

impl Cdp {
    pub fn new(conversation: Conversation) -> Cdp {
        Cdp {
            conversation,
            next_id: 1,
            buffer: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Sends a command (to a page's `session`, or to the browser) and returns its result.
    pub async fn call(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, CaptureError> {
        let id = self.next_id;
        self.next_id += 1;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let mut bytes = serde_json::to_vec(&message).expect("JSON");
        bytes.push(0);
        self.conversation
            .input
            .send(Bytes::from(bytes))
            .await
            .map_err(|_| self.closed())?;
        loop {
            let message = self.read().await?;
            if message.get("id").and_then(Value::as_u64) != Some(id) {
                self.events.push(message);
                continue;
            }
            if let Some(error) = message.get("error") {
                let text = error.get("message").and_then(Value::as_str).unwrap_or("");
                return Err(CaptureError::Failed(format!("{method}: {text}")));
            }
            return Ok(message.get("result").cloned().unwrap_or(Value::Null));
        }
    }

    /// Waits for the event `method` of `session` (one that came earlier counts).
    pub async fn event(&mut self, session: &str, method: &str) -> Result<Value, CaptureError> {
        let matches = |m: &Value| {
            m.get("method").and_then(Value::as_str) == Some(method)
                && m.get("sessionId").and_then(Value::as_str) == Some(session)
        };
        if let Some(at) = self.events.iter().position(matches) {
            return Ok(self.events.remove(at));
        }
        loop {
            let message = self.read().await?;
            if matches(&message) {
                return Ok(message);
            }
        }
    }

    /// The next whole message from the browser.
    async fn read(&mut self) -> Result<Value, CaptureError> {
        loop {
            if let Some(end) = self.buffer.iter().position(|&b| b == 0) {
                let message: Vec<u8> = self.buffer.drain(..=end).collect();
                return serde_json::from_slice(&message[..end]).map_err(|e| {
                    CaptureError::Failed(format!("the browser sent something unreadable: {e}"))
                });
            }
            match self.conversation.output.recv().await {
                Some(StreamEvent::Stdout(chunk)) => self.buffer.extend_from_slice(&chunk),
                Some(StreamEvent::Exit(Some(NOT_INSTALLED))) => {
                    return Err(CaptureError::Missing {
                        program: "the browser".to_owned(),
                    });
                }
                Some(StreamEvent::Exit(_)) | None => return Err(self.closed()),
            }
        }
    }

    fn closed(&self) -> CaptureError {
        CaptureError::Failed("the browser exited before the page was captured".to_owned())
    }
}
