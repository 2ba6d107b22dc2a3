//! A fake Discord for end-to-end tests: the REST API (v10) and the gateway
//! WebSocket a bot uses, on loopback.
//!
//! Why: the bot's Discord promises — nothing inbound is lost across gateway
//! drops (RESUME replays what it missed; what a fresh session never saw is
//! read back over REST), it answers slash commands within Discord's three
//! seconds, it ignores its own and other bots' messages, answers respect
//! the 2,000-character limit, Discord is never flooded — can only be proven
//! against something that behaves like Discord on the wire. This server
//! speaks Discord's JSON over real HTTP (`FakeDiscord::api_url`, what the
//! bot's REST client uses instead of `https://discord.com/api/v10`) and its
//! gateway protocol over a real WebSocket (`GET /gateway/bot` points at it,
//! and READY's `resume_gateway_url` too), enforces the rate limits with real
//! 429s and headers, records every call, and lets a test act as people in
//! guilds, threads and DMs and wait for what the bot does.
//!
//! Layout, one job per file:
//! * `server` — the REST pipeline: route, auth, limits, record, headers;
//! * `routes` — the endpoints as a pure parse of method and path, with
//!   their buckets;
//! * `handlers` — from route to handler, and the checks handlers share;
//! * `channels`, `threads`, `commands`, `interactions` — what each endpoint
//!   does;
//! * `messages` — posting, editing, deleting and paging messages, and their
//!   dispatches (one path for the bot and for people);
//! * `input` — JSON and multipart bodies;
//! * `reply` — Discord's error bodies;
//! * `rate_limit` — per-route buckets and the global limit as a pure
//!   function of time;
//! * `gateway` — one task per WebSocket connection: HELLO, zombies,
//!   ordered writes;
//! * `handshake` — what one client frame does: heartbeat, IDENTIFY,
//!   RESUME, protocol errors;
//! * `sessions` — sessions, their dispatch logs, fan-out by intent;
//! * `intents` — intent rules as pure functions;
//! * `json` — Discord's object shapes, shared by REST and gateway;
//! * `clock` — snowflakes, timestamps, header numbers;
//! * `state` — everything remembered, behind one lock;
//! * `api`, `types`, `config` — what tests use.
//!
//! # Ordering guarantees
//! * A REST call's authentication, rate-limit decision, effect, gateway
//!   dispatches and call record happen in one critical section, before the
//!   answer is written: when the bot sees its POST answered, the
//!   MESSAGE_CREATE for it is already queued on its gateway connection and
//!   the call is in `calls()`.
//! * Every session numbers its dispatches `s = 1, 2, …` in the order the
//!   events happened (READY is 1, GUILD_CREATEs follow); a connection
//!   writes frames in the order they were queued, so replies to a frame
//!   (ACK, READY, the replay) and dispatches never overtake each other.
//! * A RESUME replays every dispatch after `seq` in order, then RESUMED
//!   (which takes the next number but is never replayed itself).
//! * Test actions (`user_says`, `invoke_command`, …) return after their
//!   dispatches were queued on every live session.
//! * Snowflakes grow with time and in creation order; message timestamps
//!   are their snowflakes' times.
//!
//! # Faithful
//! Paths under `/api/v10`; `Authorization: Bot <token>` with 401
//! `{"message": "401: Unauthorized", "code": 0}`; 404 `404: Not Found` for
//! unknown routes; JSON error codes and texts for the errors modelled
//! (10003, 10004, 10008, 10014, 10015, 10062, 30032, 40005 with 413, 40060,
//! 50001, 50003, 50005, 50006, 50024, 50027, 50109, 160004, and 50035
//! `Invalid Form Body` with its nested `errors` tree: content over 2,000
//! characters, thread names of 1–100, unknown `message_reference`,
//! non-snowflake ids, command names and descriptions); JSON shapes of
//! users, members, roles, text channels, DMs, threads (id = starter
//! message, `thread_metadata`), messages (with `member`, `mentions`,
//! `channel_type`, `guild_id` on the gateway only; replies as type 19 with
//! `referenced_message`; thread starters as type 21; command responses as
//! type 20 with `interaction_metadata`), GUILD_CREATE (members hold only
//! the bot without GUILD_PRESENCES), READY, the application, interactions in
//! guilds (`member`) and DMs (`user`), compared with the real payloads in
//! `tests/fixtures/discord/`; multipart uploads with `payload_json` and
//! `files[n]`; every content version of edited messages and
//! `edited_timestamp`; messages listed newest first with `before`, `after`,
//! `around`, `limit` ≤ 100; the rate-limit headers on every answer
//! (`X-RateLimit-Limit`, `-Remaining`, `-Reset` in epoch seconds with
//! milliseconds, `-Reset-After`, `-Bucket`), 429 bodies with fractional
//! `retry_after`, `Retry-After`, `X-RateLimit-Scope`, `X-RateLimit-Global`;
//! per-channel buckets, webhook buckets per token, routes sharing one bucket
//! (`shared_buckets`: one hash, one count), the 50/s global limit
//! with interaction routes exempt; the gateway's HELLO, heartbeats and
//! ACKs, IDENTIFY with intents (4013 undefined bits, 4014 privileged
//! intents not enabled), MESSAGE_CONTENT hiding `content`, `embeds`,
//! `attachments`, `components` except for the bot's own messages, DMs and
//! mentions (REST follows the application's toggle instead), dispatch
//! routing by intent, RESUME with replay, op 9 for lost sessions, op 7,
//! close codes 4001–4014 with their resumability, 1000/1001 from the
//! client ending the session, the 4,096-byte payload and 120-per-minute
//! send limits; interaction callbacks (204, or 200 with `with_response`),
//! the 3-second deadline, the 15-minute token, follow-ups filling a
//! deferred response; a message's `nonce` (an integer, or a string of at most
//! 25 characters, else 50035) and `enforce_nonce`: a create whose nonce the
//! same author used within `nonce_window` ("the past few minutes") returns
//! that message and creates nothing. Faults on demand: `fail_after_creating`
//! creates a message and answers 500, as an answer lost on the way.
//!
//! # Simplified
//! One application whose bot user shares its id; one shard's worth of
//! guilds (shard parameters are checked, not used for routing); the bot
//! has every permission wherever it is not denied with `deny_access`;
//! `allowed_mentions` only filters user pings; no embeds, components,
//! stickers or polls beyond counting as non-empty; no archiving, locking,
//! private threads, forum channels, thread members or THREAD_LIST_SYNC; the
//! starter message of a thread gets HAS_THREAD and `thread` without a
//! MESSAGE_UPDATE; ephemeral responses are stored and dispatched like
//! others; REST bucket numbers Discord does not publish (threads, command
//! overwrites) are guesses, in `config`; one fixed window per bucket where
//! Discord's exact algorithm is unpublished; punishments for ignoring 429s
//! (and the invalid-request ban) are only recorded as violations; missing
//! a heartbeat for `heartbeat_interval × 1.5` is answered with close 4009
//! and the session ends (Discord documents only that such connections are
//! closed); the IDENTIFY quota is counted but `max_concurrency` is not
//! enforced; no compression or ETF (those connections are refused with
//! 4002); nothing is persisted.

mod api;
mod channels;
mod clock;
mod commands;
mod components;
mod config;
mod gateway;
mod handlers;
mod handshake;
mod input;
mod intents;
mod interactions;
mod json;
mod messages;
mod rate_limit;
mod reply;
mod routes;
mod server;
mod sessions;
mod state;
mod threads;
mod types;

// The whole test-facing surface is re-exported here; a given test binary
// names only some of these items.
#[allow(unused_imports)]
pub use api::FakeDiscord;
#[allow(unused_imports)]
pub use config::{BucketLimit, FakeDiscordConfig, RouteLimits};
#[allow(unused_imports)]
pub use routes::RouteKind;
#[allow(unused_imports)]
pub use types::{
    Attachment, CallRecord, ChannelKind, CloseRecord, ClosedBy, ContentVersion, FakeChannel,
    FakeGuild, FakeRole, FakeUser, GatewayFacts, HandshakeOutcome, HeartbeatRecord, IdentifyRecord,
    InteractionCallback, InteractionHandle, InteractionState, MessageState, ReactionState,
    RegisteredCommand, ResumeRecord, SessionFacts, ThreadState, UserMessage, Violation,
    ViolationKind,
};
