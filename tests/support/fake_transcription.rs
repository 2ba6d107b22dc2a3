//! A fake OpenAI-compatible speech-to-text endpoint: `POST /v1/audio/transcriptions`.
//!
//! Why: the voice feature can only be trusted if the bot's real client speaks the real wire
//! format — multipart with a `file` part carrying a file name, a `model` field, the optional
//! `language`, a bearer key — and if its failures are seen as users would see them. The fake
//! checks all of that as OpenAI does (401 for a wrong key, 400 for a missing field), records
//! each request (the audio's bytes among it), and answers `{"text": …}` with the transcript a
//! test set, or with the error status a test asked for (500, 429) until told otherwise.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::waiting;

/// One transcription request, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcription {
    pub file_name: String,
    pub audio: Vec<u8>,
    pub model: String,
    pub language: Option<String>,
}

#[derive(Default)]
struct FakeState {
    transcript: String,
    /// The status every request is answered with instead, while set.
    failing: Option<u16>,
    requests: Vec<Transcription>,
}

struct Shared {
    key: String,
    state: Mutex<FakeState>,
    changed: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, FakeState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The running fake; stopped when dropped.
pub struct FakeTranscription {
    shared: Arc<Shared>,
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl FakeTranscription {
    /// Starts the fake, accepting only `key`, answering `transcript`.
    pub async fn start(key: &str, transcript: &str) -> FakeTranscription {
        let shared = Arc::new(Shared {
            key: key.to_owned(),
            state: Mutex::new(FakeState {
                transcript: transcript.to_owned(),
                ..FakeState::default()
            }),
            changed: Notify::new(),
        });
        let app = Router::new()
            .route("/v1/audio/transcriptions", post(transcribe))
            .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state(shared.clone());
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake transcription endpoint");
        let addr = listener.local_addr().expect("its address");
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("the fake transcription endpoint runs");
        });
        FakeTranscription { shared, addr, task }
    }

    /// The base URL (`transcription.api_url`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What the next requests are answered.
    pub fn set_transcript(&self, transcript: &str) {
        self.shared.lock().transcript = transcript.to_owned();
    }

    /// Answers every request with `status` (and an OpenAI-style error body) from now on;
    /// `None`: answers again.
    pub fn fail_with(&self, status: Option<u16>) {
        self.shared.lock().failing = status;
    }

    /// Every well-formed request so far (rejected ones are not recorded).
    pub fn requests(&self) -> Vec<Transcription> {
        self.shared.lock().requests.clone()
    }

    /// Waits until `count` well-formed requests have arrived.
    pub async fn wait_requests(&self, count: usize, timeout: Duration) -> Vec<Transcription> {
        waiting::until(&self.shared.changed, timeout, || {
            let requests = self.requests();
            (requests.len() >= count).then_some(requests)
        })
        .await
        .unwrap_or_else(|| panic!("{count} transcription requests; got {:?}", self.requests()))
    }
}

impl Drop for FakeTranscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn error(status: u16, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({ "error": { "message": message, "type": "fake_error" } });
    (status, axum::Json(body)).into_response()
}

async fn transcribe(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let bearer = format!("Bearer {}", shared.key);
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(bearer.as_str()) {
        return error(401, "Incorrect API key provided.");
    }
    let mut fields = HashMap::new();
    let mut file = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                let file_name = field.file_name().map(str::to_owned);
                let Ok(bytes) = field.bytes().await else {
                    return error(400, "the multipart body broke off");
                };
                match (name.as_str(), file_name) {
                    ("file", Some(file_name)) => file = Some((file_name, bytes.to_vec())),
                    ("file", None) => return error(400, "'file' must be a file part"),
                    _ => {
                        fields.insert(name, String::from_utf8_lossy(&bytes).into_owned());
                    }
                }
            }
            Ok(None) => break,
            Err(_) => return error(400, "not a multipart body"),
        }
    }
    let Some((file_name, audio)) = file.filter(|(_, audio)| !audio.is_empty()) else {
        return error(400, "you must provide a 'file'");
    };
    let Some(model) = fields.remove("model").filter(|m| !m.is_empty()) else {
        return error(400, "you must provide a model parameter");
    };
    let answer = {
        let mut state = shared.lock();
        match state.failing {
            Some(status) => Err(status),
            None => {
                state.requests.push(Transcription {
                    file_name,
                    audio,
                    model,
                    language: fields.remove("language"),
                });
                Ok(state.transcript.clone())
            }
        }
    };
    shared.changed.notify_waiters();
    match answer {
        Ok(text) => axum::Json(json!({ "text": text })).into_response(),
        Err(429) => error(429, "Rate limit reached for requests"),
        Err(status) => error(
            status,
            "The server had an error while processing your request.",
        ),
    }
}
