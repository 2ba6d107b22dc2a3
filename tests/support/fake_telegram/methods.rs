//! Dispatch of Bot API calls, the error type, and the per-call context the
//! method modules (`messages`, `commands`, `polling`) work in.
//!
//! Every method except `getUpdates` runs inside one lock scope together with
//! its call record, so the record, the rate-limit decision and the effect are
//! one step. Validation follows Telegram's layering: parameter checks done by
//! the Bot API server itself (empty text, entity parsing, missing file) come
//! first and never count against the flood limits; the rate limiter runs
//! next; checks that need Telegram's servers (thread, reply target, message to
//! edit) come after it, so such failures still count, as they do on Telegram.
//! Error descriptions are Telegram's own texts wherever the fake reproduces a
//! real error; texts containing "the fake" mark behaviour the fake does not
//! implement, so a test never passes by accident.

use std::time::SystemTime;

use serde_json::Value;
use tokio::time::Instant;

use super::faults::Fault;
use super::params::Params;
use super::rate_limit::Decision;
use super::state::{Attachment, Formatted, Sender, Shared, State, StoredMessage};
use super::types::{CallRecord, Violation};
use super::{commands, files, json, messages, polling};

/// A failed call: `error_code` (also the HTTP status), `description`, and
/// `retry_after` for 429.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ApiError {
    pub code: u16,
    pub description: String,
    pub retry_after: Option<u32>,
}

impl ApiError {
    fn new(code: u16, description: String) -> Self {
        Self {
            code,
            description,
            retry_after: None,
        }
    }

    pub fn bad_request(detail: &str) -> Self {
        Self::new(400, format!("Bad Request: {detail}"))
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized".to_string())
    }

    pub fn not_found() -> Self {
        Self::new(404, "Not Found".to_string())
    }

    pub fn conflict(detail: &str) -> Self {
        Self::new(409, format!("Conflict: {detail}"))
    }

    /// What Telegram's front answers when it fails: 500, 502, 503 or 504, with the status'
    /// reason phrase as the description.
    pub fn server_error(code: u16) -> Self {
        let description = match code {
            502 => "Bad Gateway",
            503 => "Service Unavailable",
            504 => "Gateway Timeout",
            _ => "Internal Server Error",
        };
        Self::new(code, description.to_string())
    }

    pub fn too_many_requests(retry_after: u32) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(429, format!("Too Many Requests: retry after {retry_after}"))
        }
    }
}

/// A successful answer; some methods carry a `description` too.
pub(super) struct Success {
    pub result: Value,
    pub description: Option<&'static str>,
}

impl From<Value> for Success {
    fn from(result: Value) -> Self {
        Self {
            result,
            description: None,
        }
    }
}

pub(super) type Reply = Result<Success, ApiError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Method {
    GetMe,
    GetUpdates,
    SetWebhook,
    DeleteWebhook,
    GetWebhookInfo,
    SetMyCommands,
    GetMyCommands,
    DeleteMyCommands,
    SendMessage,
    EditMessageText,
    SendDocument,
    SendPhoto,
    SendChatAction,
    DeleteMessage,
    GetFile,
    AnswerCallbackQuery,
}

impl Method {
    const ALL: [Method; 16] = [
        Self::GetMe,
        Self::GetUpdates,
        Self::SetWebhook,
        Self::DeleteWebhook,
        Self::GetWebhookInfo,
        Self::SetMyCommands,
        Self::GetMyCommands,
        Self::DeleteMyCommands,
        Self::SendMessage,
        Self::EditMessageText,
        Self::SendDocument,
        Self::SendPhoto,
        Self::SendChatAction,
        Self::DeleteMessage,
        Self::GetFile,
        Self::AnswerCallbackQuery,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::GetMe => "getMe",
            Self::GetUpdates => "getUpdates",
            Self::SetWebhook => "setWebhook",
            Self::DeleteWebhook => "deleteWebhook",
            Self::GetWebhookInfo => "getWebhookInfo",
            Self::SetMyCommands => "setMyCommands",
            Self::GetMyCommands => "getMyCommands",
            Self::DeleteMyCommands => "deleteMyCommands",
            Self::SendMessage => "sendMessage",
            Self::EditMessageText => "editMessageText",
            Self::SendDocument => "sendDocument",
            Self::SendPhoto => "sendPhoto",
            Self::SendChatAction => "sendChatAction",
            Self::DeleteMessage => "deleteMessage",
            Self::GetFile => "getFile",
            Self::AnswerCallbackQuery => "answerCallbackQuery",
        }
    }

    /// Whether the method posts a new message.
    pub fn posts(self) -> bool {
        matches!(
            self,
            Self::SendMessage | Self::SendDocument | Self::SendPhoto
        )
    }

    /// Method names are case-insensitive on Telegram (teloxide sends
    /// `SendMessage`).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(name))
    }
}

/// Appends a call record. `reply` carries the message a post made, also when its answer was
/// then lost (`fail_after_sending`).
pub(super) fn record_call(
    state: &mut State,
    (method, connection): (&str, u64),
    chat_id: Option<i64>,
    at: SystemTime,
    reply: Result<Option<i32>, (&ApiError, Option<i32>)>,
) {
    let (error, message_id) = match reply {
        Ok(posted) => (None, posted),
        Err((error, posted)) => (Some(error), posted),
    };
    state.calls.push(CallRecord {
        method: method.to_string(),
        chat_id,
        at,
        status: error.map_or(200, |e| e.code),
        description: error.map(|e| e.description.clone()),
        retry_after: error.and_then(|e| e.retry_after),
        connection,
        message_id,
    });
}

/// Runs `method` (arrived on the connection numbered `connection`) and records the call.
pub(super) async fn call(
    shared: &Shared,
    method: Method,
    params: Params,
    connection: u64,
) -> Reply {
    if method == Method::GetUpdates {
        return polling::get_updates(shared, &params, connection).await;
    }
    let (now, at) = shared.clock.now();
    let reply = {
        let mut state = shared.lock();
        let mut cx = Cx {
            shared,
            st: &mut state,
            now,
            at,
            method,
        };
        let p = &params;
        let reply = match method {
            Method::GetMe => Ok(json::me(&shared.bot).into()),
            Method::SetWebhook => polling::set_webhook(&mut cx, p),
            Method::DeleteWebhook => polling::delete_webhook(&mut cx, p),
            Method::GetWebhookInfo => Ok(polling::webhook_info(cx.st).into()),
            Method::SetMyCommands => commands::set_my_commands(&mut cx, p),
            Method::GetMyCommands => commands::get_my_commands(&mut cx, p),
            Method::DeleteMyCommands => commands::delete_my_commands(&mut cx, p),
            Method::SendMessage => messages::send_message(&mut cx, p),
            Method::EditMessageText => messages::edit_message_text(&mut cx, p),
            Method::SendDocument => messages::send_document(&mut cx, p),
            Method::SendPhoto => messages::send_photo(&mut cx, p),
            Method::SendChatAction => messages::send_chat_action(&mut cx, p),
            Method::DeleteMessage => messages::delete_message(&mut cx, p),
            Method::GetFile => files::get_file(&mut cx, p),
            Method::AnswerCallbackQuery => super::buttons::answer_callback_query(&mut cx, p),
            Method::GetUpdates => unreachable!("handled above"),
        };
        let posted = match &reply {
            Ok(sent) if method.posts() => sent.result["message_id"]
                .as_i64()
                .and_then(|id| i32::try_from(id).ok()),
            _ => None,
        };
        let reply = match reply {
            Ok(sent) if method.posts() && state.fail_after_sending.pop_front() == Some(true) => {
                let chat = sent.result["chat"]["id"].as_i64().unwrap_or_default();
                let id = sent.result["message_id"].as_i64().unwrap_or_default();
                state.answers_lost.push((chat, id as i32));
                Err(ApiError::server_error(500))
            }
            other => other,
        };
        record_call(
            &mut state,
            (method.name(), connection),
            params.chat_id_hint(),
            at,
            reply.as_ref().map(|_| posted).map_err(|e| (e, posted)),
        );
        reply
    };
    shared.notify_changed();
    shared.notify_updates();
    reply
}

/// One call's view of the world: the locked state and the call's time.
pub(super) struct Cx<'a> {
    pub shared: &'a Shared,
    pub st: &'a mut State,
    pub now: Instant,
    pub at: SystemTime,
    pub method: Method,
}

impl Cx<'_> {
    /// Asks the rate limiter (a 429 inside an open window is recorded as a
    /// violation), then the random faults, when configured: a call they
    /// refuse takes no effect.
    pub fn admit(&mut self, chat_id: i64) -> Result<(), ApiError> {
        let fault = self.st.faults.as_mut().and_then(|f| f.roll(self.method));
        let decision = match fault {
            Some(Fault::RetryAfter(secs)) => self.st.limiter.refuse(chat_id, self.now, secs),
            _ => self.st.limiter.check(chat_id, self.now),
        };
        match decision {
            Decision::Accept => match fault {
                Some(Fault::ServerError(code)) => Err(ApiError::server_error(code)),
                _ => Ok(()),
            },
            Decision::Reject {
                retry_after,
                violated_window,
            } => {
                if let Some(end) = violated_window {
                    self.st.violations.push(Violation {
                        method: self.method.name().to_string(),
                        chat_id,
                        at: self.at,
                        window_end: self.shared.clock.system_at(end),
                    });
                }
                Err(ApiError::too_many_requests(retry_after))
            }
        }
    }

    pub fn chat_id(&self, p: &Params) -> Result<i64, ApiError> {
        let raw = p.string("chat_id")?.unwrap_or_default();
        if raw.trim().is_empty() {
            return Err(ApiError::bad_request("chat_id is empty"));
        }
        raw.trim()
            .parse()
            .ok()
            .filter(|id| self.st.chats.contains_key(id))
            .ok_or_else(|| ApiError::bad_request("chat not found"))
    }

    pub fn message_id(p: &Params) -> Result<i32, ApiError> {
        p.int("message_id")?
            .and_then(|id| i32::try_from(id).ok())
            .ok_or_else(|| ApiError::bad_request("message identifier is not specified"))
    }

    /// The topic and reply target of a new message.
    pub fn placement(
        &self,
        chat_id: i64,
        p: &Params,
    ) -> Result<(Option<i32>, Option<i32>), ApiError> {
        let chat = &self.st.chats[&chat_id];
        let (reply_id, allow_without_reply) = match p.json("reply_parameters")? {
            Some(rp) => {
                let id = rp
                    .get("message_id")
                    .and_then(Value::as_i64)
                    .ok_or_else(|| {
                        ApiError::bad_request("can't parse reply parameters JSON object")
                    })?;
                let allow = rp
                    .get("allow_sending_without_reply")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                (Some(id), allow)
            }
            None => (
                p.int("reply_to_message_id")?,
                p.bool("allow_sending_without_reply")?,
            ),
        };
        let mut thread = match p.int("message_thread_id")? {
            None => None,
            Some(t) => {
                let t = i32::try_from(t)
                    .ok()
                    .filter(|t| chat.topics.contains_key(t));
                match t {
                    Some(t) if chat.is_forum() => Some(t),
                    _ => return Err(ApiError::bad_request("message thread not found")),
                }
            }
        };
        let reply = match reply_id {
            None => None,
            Some(id) => match i32::try_from(id).ok().and_then(|id| chat.live(id)) {
                Some(replied) => {
                    thread = thread.or(replied.thread_id);
                    Some(replied.message_id)
                }
                None if allow_without_reply => None,
                None => return Err(ApiError::bad_request("message to be replied not found")),
            },
        };
        Ok((thread, reply))
    }

    /// Stores a new bot message and renders it.
    pub fn post(
        &mut self,
        chat_id: i64,
        (thread, reply): (Option<i32>, Option<i32>),
        text: Option<Formatted>,
        attachment: Option<Attachment>,
    ) -> Value {
        let chat = self.st.chat_mut(chat_id);
        let id = chat.allocate_message_id();
        let mut msg = StoredMessage::new(id, Sender::Bot, self.at);
        msg.thread_id = thread;
        msg.reply_to = reply;
        msg.text = text;
        msg.attachment = attachment;
        chat.messages.insert(id, msg);
        chat.bot_posts.push(id);
        self.render(chat_id, id)
    }

    pub fn render(&self, chat_id: i64, message_id: i32) -> Value {
        let chat = &self.st.chats[&chat_id];
        json::message(self.st, &self.shared.bot, chat, &chat.messages[&message_id])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_are_case_insensitive() {
        assert_eq!(Method::parse("SendMessage"), Some(Method::SendMessage));
        assert_eq!(Method::parse("getupdates"), Some(Method::GetUpdates));
        assert_eq!(Method::parse("sendPoll"), None);
    }
}
