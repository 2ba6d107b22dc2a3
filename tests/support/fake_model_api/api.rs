//! The handle tests hold: start the server, point a CLI at it, queue the model's answers, read
//! back what the CLI sent.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::reply::Reply;
use super::server;
use crate::support::waiting;

/// Which of the wire protocols a request spoke, by method and path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireApi {
    /// `POST …/v1/messages` (Anthropic).
    AnthropicMessages,
    /// `POST …/v1/messages/count_tokens` (Anthropic).
    AnthropicCountTokens,
    /// `POST …/v1/responses` (OpenAI).
    Responses,
    /// `POST …/v1/chat/completions` (OpenAI).
    ChatCompletions,
    /// `GET …/v1/models`.
    Models,
    /// Anything else (answered 404).
    Unknown,
}

impl WireApi {
    pub(super) fn of(method: &str, path: &str) -> Self {
        match (method, path) {
            ("POST", p) if p.ends_with("/v1/messages") => Self::AnthropicMessages,
            ("POST", p) if p.ends_with("/v1/messages/count_tokens") => Self::AnthropicCountTokens,
            ("POST", p) if p.ends_with("/v1/responses") => Self::Responses,
            ("POST", p) if p.ends_with("/v1/chat/completions") => Self::ChatCompletions,
            ("GET", p) if p.ends_with("/v1/models") => Self::Models,
            _ => Self::Unknown,
        }
    }

    /// Whether requests of this kind ask the model for an answer.
    pub(super) fn asks_the_model(self) -> bool {
        matches!(
            self,
            Self::AnthropicMessages | Self::Responses | Self::ChatCompletions
        )
    }
}

/// One request as the fake received it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    /// Path and query, e.g. `/v1/messages?beta=true`.
    pub path: String,
    pub api: WireApi,
    /// The JSON body (`Null` when empty or not JSON).
    pub body: Value,
    /// Whether this was one of the agent's turn requests (asks the model and carries tools), which
    /// take the queued replies; side requests (a session title) and other paths do not.
    pub turn: bool,
}

impl RecordedRequest {
    /// The names of the tools the CLI offered the model (Anthropic `name`, Responses `name`, Chat
    /// Completions `function.name`).
    pub fn tool_names(&self) -> Vec<String> {
        self.body["tools"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|tool| {
                tool["name"]
                    .as_str()
                    .or_else(|| tool["function"]["name"].as_str())
            })
            .map(str::to_string)
            .collect()
    }
}

/// Everything the server remembers, behind one lock.
#[derive(Default)]
pub(super) struct State {
    pub(super) queue: VecDeque<Reply>,
    pub(super) requests: Vec<RecordedRequest>,
    /// Numbers the answers, for unique message and call ids.
    pub(super) serial: u64,
}

#[derive(Default)]
pub(super) struct Shared {
    state: Mutex<State>,
    pub(super) changed: Notify,
}

impl Shared {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running fake model API on `127.0.0.1`. Cheap to clone; the server stops when the last clone
/// is dropped.
#[derive(Clone)]
pub struct FakeModelApi {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeModelApi {
    /// Binds `127.0.0.1:0` and starts serving.
    pub async fn start() -> Self {
        let shared = Arc::new(Shared::default());
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake model API: bind 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("fake model API: local address");
        let app = server::router(shared.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("fake model API: serve");
        });
        Self {
            inner: Arc::new(Inner { shared, addr, task }),
        }
    }

    /// `http://127.0.0.1:PORT`: Anthropic's base URL (`ANTHROPIC_BASE_URL`; the CLI adds `/v1/…`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// `http://127.0.0.1:PORT/v1`: the OpenAI base URL (Codex's `base_url`, OpenCode's `baseURL`).
    pub fn openai_base_url(&self) -> String {
        format!("{}/v1", self.base_url())
    }

    /// A URL for `npm_config_registry` that answers 404 to everything: OpenCode's background
    /// plugin install then fails at once instead of reaching the internet.
    pub fn npm_registry_url(&self) -> String {
        format!("{}/npm/", self.base_url())
    }

    /// Queues the answer to the next turn request.
    pub fn push_reply(&self, reply: Reply) {
        self.push_replies([reply]);
    }

    /// Queues answers to the next turn requests, in order.
    pub fn push_replies(&self, replies: impl IntoIterator<Item = Reply>) {
        self.inner.shared.lock().queue.extend(replies);
    }

    /// How many queued answers no request has taken yet.
    pub fn queued(&self) -> usize {
        self.inner.shared.lock().queue.len()
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.inner.shared.lock().requests.clone()
    }

    /// The turn requests so far (those that took, or asked for, a queued answer).
    pub fn turn_requests(&self) -> Vec<RecordedRequest> {
        self.requests().into_iter().filter(|r| r.turn).collect()
    }

    /// Waits until `count` turn requests have arrived and returns them; panics after `timeout`
    /// listing what did arrive.
    pub async fn wait_for_turn_requests(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Vec<RecordedRequest> {
        let found = waiting::until(&self.inner.shared.changed, timeout, || {
            let turns = self.turn_requests();
            (turns.len() >= count).then_some(turns)
        })
        .await;
        found.unwrap_or_else(|| {
            let seen: Vec<String> = self
                .requests()
                .iter()
                .map(|r| format!("{} {} (turn: {})", r.method, r.path, r.turn))
                .collect();
            panic!("fake model API: {count} turn requests did not arrive in {timeout:?}; seen: {seen:#?}")
        })
    }
}
