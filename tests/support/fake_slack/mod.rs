//! A fake Slack for end-to-end tests: the Web API a bot calls, Socket Mode
//! and signed Events API deliveries, on loopback.
//!
//! Why: the bot's Slack promises — nothing inbound is lost (events are acked
//! only when stored, redelivered ones are recognised by `event_id`), every
//! result is posted exactly once, progress is shown by editing one message,
//! Slack is never flooded, the bot ignores its own echoes and other bots,
//! forged requests are refused — can only be proven against something that
//! behaves like Slack on the wire. This server speaks the Web API over real
//! HTTP (`{api_url}/chat.postMessage`, tokens in `Authorization: Bearer`,
//! JSON or form bodies, Slack's `ok`/`error` answers and error codes),
//! Socket Mode over a real WebSocket (`hello`, envelopes, acks, retries,
//! `disconnect`), and signs HTTP deliveries exactly as Slack does. It
//! enforces the published rate limits with real 429s and `Retry-After`,
//! records every call, and lets a test act as people and wait for what the
//! bot does. The bot's hand-written client works against it unchanged except
//! for its base URL.
//!
//! Layout, one job per file:
//! * `server` — routes and the Web API pipeline (token, limit, effect, record);
//! * `params` — arguments from query, form, multipart or JSON bodies;
//! * `reply` — the `ok`/`error` envelope, warnings, 429 and 404;
//! * `methods` — method table (names, tiers, token types), shared checks;
//! * `chat`, `reactions`, `files`, `history` — what each method does;
//! * `rate_limit` — tiers and the `chat.postMessage` buckets as pure
//!   functions of time;
//! * `json`, `events` — Slack's object shapes and event callbacks;
//! * `dispatch` — events to Socket Mode or HTTP, whichever is in use;
//! * `outbox`, `socket` — Socket Mode envelopes, acks, retries; the
//!   WebSocket itself;
//! * `http_delivery`, `signing` — signed POSTs with Slack's retries;
//! * `slash` — slash command answers (ack payload, HTTP body, response_url);
//! * `ids` — ids, `ts` and cursors in Slack's formats;
//! * `state` — everything remembered, behind one lock, and the clocks;
//! * `api`, `inspect`, `types`, `config` — what tests use.
//!
//! Real payloads for parser tests live in `tests/fixtures/slack/` (see its
//! README); `fake_slack_tests` checks that what the fake generates has the
//! same fields.
//!
//! # Ordering guarantees
//! * A Web API call's token check, rate-limit decision, effect, the events
//!   it causes and its call record happen in one critical section before the
//!   answer is written: when a test sees a message, the call that made it is
//!   in `calls()`, and its echo event is already handed to the transport.
//! * Message `ts` values come from the wall clock in microseconds, forced to
//!   grow strictly across the whole workspace, so they grow per channel and
//!   sort as text.
//! * Socket Mode: envelopes leave in the order their events happened; one
//!   connection carries them in that order. With several connections they
//!   are spread round-robin, so the app may see them out of order, as with
//!   Slack. Envelopes created while no connection is open wait and go, in
//!   order, right after the next `hello`. A retry goes to the next
//!   connection in turn.
//! * HTTP: each event is delivered on its own task; retries follow
//!   `http_retry_delays`; nothing orders two events' deliveries.
//! * `user_says` and the other acting helpers return once the events are
//!   handed to the transport (written to a connection or queued, or the
//!   HTTP task started), not when the app has handled them: wait on what the
//!   bot does, or on `wait_for_event_acked`.
//!
//! # Faithful
//! Method names (case-sensitive), `POST`/`GET` with query, form, multipart
//! or JSON arguments, the `token` argument as an alternative to the header;
//! `not_authed`, `invalid_auth`, `not_allowed_token_type` (bot vs app-level
//! token), 404 `unknown_method`, `invalid_json`, `missing_charset`
//! warnings; the shapes of `auth.test`, `apps.connections.open`,
//! `chat.postMessage`/`update`/`postEphemeral`, `reactions.add`/`remove`,
//! `files.getUploadURLExternal` + upload URL + `files.completeUploadExternal`,
//! `conversations.history`/`replies` with Slack's `next_ts` cursors; their
//! errors `channel_not_found`, `not_in_channel`, `no_text`,
//! `invalid_blocks`, `invalid_thread_ts`, `message_not_found`,
//! `cant_update_message`, `user_not_in_channel`, `already_reacted`,
//! `no_reaction`, `invalid_name`, `bad_timestamp`, `no_item_specified`,
//! `invalid_arguments` (with `response_metadata.messages`),
//! `alt_txt_too_large`, `file_not_found`, `thread_not_found`,
//! `invalid_cursor`; 40,000-character truncation; orphan `thread_ts`
//! accepted; per-method tier limits and the `chat.postMessage` per-channel
//! and workspace limits with 429, `Retry-After` and `ratelimited`; event
//! callbacks (`token`, `team_id`, `api_app_id`, `event`, `event_id`,
//! `event_time`, `authorizations`, `is_ext_shared_channel`,
//! `event_context`) and events (`message` with `channel_type`,
//! `client_msg_id`, `rich_text` blocks, `thread_ts`, `parent_user_id`,
//! `app_mention` alongside `message` for mentions, the app's own messages
//! with `bot_id`/`bot_profile`, other apps' bots, legacy `bot_message`,
//! `message_changed`, `message_deleted`, `channel_join`) only from
//! conversations the bot is in; Socket Mode `hello`, `events_api` and
//! `slash_commands` envelopes with `retry_attempt`/`retry_reason`, one-time
//! tickets, acks with payloads, retries after the 3 s deadline possibly on
//! another connection, `disconnect` then close, several connections;
//! HTTP deliveries signed `v0=HMAC-SHA256("v0:ts:body")` (checked against
//! Slack's documented example), `X-Slack-Retry-Num`/`Reason`,
//! `X-Slack-No-Retry`, `url_verification`, slash commands as forms.
//!
//! Message metadata: `chat.postMessage` takes `metadata` (`event_type`,
//! `event_payload`; JSON or JSON text, else `invalid_metadata_format`), keeps
//! it, shows it in its answer, and `conversations.history`/`replies` show it
//! only with `include_all_metadata`. Faults on demand: `fail_after_posting`
//! posts a message and answers HTTP 500, as an answer lost on the way.
//!
//! # Simplified
//! One workspace, one app; no Enterprise Grid, shared channels, MPIMs,
//! user groups, scopes (the bot has every scope it needs, but not
//! `chat:write.public`: posting needs membership), archived channels,
//! `chat.delete`, scheduled messages, interactivity, views or unfurls;
//! `blocks`/`attachments` are stored as given, never rendered or validated
//! beyond "an array of at most 50"; `mrkdwn`, `unfurl_*`, `parse`,
//! `link_names` are accepted and ignored; the bot's text-only posts get no
//! generated `rich_text` blocks (people's messages do);
//! `edit_window_closed` never happens; reactions accept any well-formed emoji name (a workspace's
//! custom emoji cannot be known); a `thread_ts` naming a reply is used as
//! given; a file-length mismatch is refused at completion with
//! `invalid_arguments` (Slack documents nothing for it); file shares are
//! not counted against `chat.postMessage` limits; the app's own
//! `message_changed` echoes are sent for `chat.update` but not for thread
//! metadata changes; Slack's punishments for ignoring `Retry-After` are only
//! recorded as violations; Socket Mode's 10-connection cap and periodic
//! refreshes are not enforced (tests send `disconnect` themselves); events
//! made while no connection is open wait for one indefinitely, without
//! Slack's eventual give-up or its `app_rate_limited` event; slash commands
//! over HTTP are not retried and their 3 s deadline shows no error;
//! `response_url` accepts any number of answers; HTTP delivery failures
//! never disable the subscription; ids are made up in Slack's formats.

mod api;
mod chat;
mod config;
mod dispatch;
mod events;
mod files;
mod history;
mod http_delivery;
mod ids;
mod inspect;
mod interactivity;
mod json;
mod methods;
mod outbox;
mod params;
mod rate_limit;
mod reactions;
mod reply;
mod server;
mod signing;
mod slash;
mod socket;
mod state;
mod types;

// The whole test-facing surface is re-exported here; a given test binary
// names only some of these items.
#[allow(unused_imports)]
pub use api::FakeSlack;
#[allow(unused_imports)]
pub use config::{Delivery, FakeSlackConfig, Tier};
#[allow(unused_imports)]
pub use reactions::COMMON as COMMON_EMOJI;
#[allow(unused_imports)]
pub use signing::slack_signature;
#[allow(unused_imports)]
pub use types::{
    AckRecord, CallRecord, ChannelKind, CloseKind, Connection, Envelope, EnvelopeAttempt,
    Ephemeral, FakeChannel, FakeUser, HttpDelivery, SharedFile, SlackMessage, SlashInvocation,
    SlashResponse, SlashResponseVia, TextVersion, TokenKind, UserKind, Violation,
};
