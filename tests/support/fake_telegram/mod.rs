//! A fake Telegram Bot API server for end-to-end tests.
//!
//! Why: the bot's promises about Telegram — nothing inbound is lost, every
//! result is posted exactly once, the platform is never flooded, the HTML it
//! sends parses — can only be proven against something that behaves like
//! Telegram on the wire. This server speaks the Bot API over real HTTP on
//! loopback (the bot points teloxide's `set_api_url` at [`FakeTelegram::api_url`]),
//! enforces Telegram's flood limits with real 429s, records every call, and
//! lets a test act as people in chats and wait for what the bot posts.
//!
//! Layout, one job per file:
//! * `server` — routing, token check, response envelope;
//! * `params` — parameters from query, form, JSON or multipart;
//! * `methods` — dispatch, errors, the per-call context;
//! * `messages`, `commands`, `polling` — what each Bot API method does;
//! * `rate_limit` — Telegram's flood limits as a pure function of time;
//! * `state` — everything remembered, behind one lock;
//! * `json` — Bot API object shapes (User, Chat, Message, MessageEntity);
//! * `updates`, `client_entities` — people's messages as real-shaped Updates;
//! * `delivery` — webhook POSTs with retries;
//! * `connections` — which TCP connection (so which bot process) made each
//!   call, and the line between a killed bot and the next;
//! * `faults` — random refusals of posts and edits, for chaos tests;
//! * `api`, `types`, `config` — what tests use.
//!
//! HTML is checked by [`crate::support::telegram_html`], a strict parser of
//! Telegram's HTML parse mode written independently of the project's renderer.
//!
//! # Ordering guarantees
//! * Updates get increasing `update_id`s in the order the test injects them,
//!   and leave in that order: a getUpdates answer holds a prefix of the queue,
//!   and a webhook never receives update N+1 before N was answered 2xx.
//!   An update stays queued until confirmed (a later `offset`) or
//!   acknowledged, so a bot that crashes before confirming sees it again.
//! * `send_text`/`send` return after the update is queued; a getUpdates call
//!   already waiting is woken by it.
//! * Message ids grow per chat in the order the fake accepted the calls;
//!   `next_bot_message(chat, thread)` returns the bot's new messages in that
//!   order, each once.
//! * A call's record, its rate-limit decision and its effect happen in one
//!   critical section, before the HTTP answer is written: when a test sees a
//!   message, the call that made it is already in `calls()`.
//! * `update_delivered_at` is set before the update leaves the fake.
//!
//! # Faithful
//! Paths, case-insensitive method names, the four parameter encodings and
//! teloxide's `attach://` uploads; the `ok`/`error_code`/`description`/
//! `parameters.retry_after` envelope with matching HTTP statuses; Telegram's
//! error texts for the errors modelled (chat not found, message text is empty,
//! message is too long, can't parse entities, message is not modified, message
//! to edit not found, message thread not found, message to be replied not
//! found, 409 getUpdates conflicts, command validation); JSON shapes of User,
//! Chat, Message (topics, `is_topic_message`, the implicit reply to the
//! topic's creation message), Document, MessageEntity with UTF-16 offsets;
//! whitespace trimming of texts; long polling; the webhook secret header; the
//! three published flood limits. Faults on demand: `fail_after_sending` posts
//! a message and answers 500 (recorded in `answers_lost`), as an answer lost
//! on the way; `FakeTelegramConfig::faults` refuses a random share of posts
//! and edits before they take effect (429 with `retry_after` 1–2 s, or
//! 500/502).
//!
//! # Simplified
//! Only the methods listed in `methods::Method` exist (others answer 404 like
//! an unknown method); `parse_mode` is HTML only, explicit `entities` are
//! refused; inline keyboards of callback buttons only (`buttons`), other
//! `reply_markup`, link previews and notifications are accepted and ignored;
//! no permissions, membership, channels, inline mode or file downloads; webhooks must be `http://` and are delivered one
//! update at a time; Telegram's punishments for ignoring `retry_after` are
//! only recorded (as violations), not escalated; user-typed text gets only
//! `bot_command` and `mention` entities (unless a test gives its own, which
//! may not fit the text: `UserMessage::with_entities`); `send_raw_update`
//! queues any payload, however malformed; `allowed_updates` is applied when
//! updates are handed over, not when they are created.

mod api;
mod buttons;
mod client_entities;
mod commands;
mod config;
mod connections;
mod delivery;
mod faults;
mod files;
mod json;
mod messages;
mod methods;
mod params;
mod polling;
mod rate_limit;
mod server;
mod state;
mod types;
mod updates;

// The whole test-facing surface is re-exported here; a given test binary
// names only some of these types.
#[allow(unused_imports)]
pub use api::FakeTelegram;
pub use config::FakeTelegramConfig;
#[allow(unused_imports)]
pub use faults::RandomFaults;
#[allow(unused_imports)]
pub use types::{
    BotDocument, BotMessage, BotPhoto, CallRecord, ChatKind, FakeChat, FakeUser, Sent, TextVersion,
    UserMessage, Violation, WebhookInfo,
};
