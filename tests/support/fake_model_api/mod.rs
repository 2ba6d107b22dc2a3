//! A fake model API for the tests that drive the real agent CLIs.
//!
//! Why: the adapters for Claude Code, Codex and OpenCode can only be trusted if the real CLIs run
//! against something that answers like the model providers, offline and on cue. This server speaks
//! the three wire protocols those CLIs use, over real HTTP on loopback:
//! * Anthropic Messages (`POST /v1/messages`, streamed as SSE `message_start`,
//!   `content_block_start`/`content_block_delta` (`text_delta`, `input_json_delta`)/`content_block_stop`,
//!   `message_delta` with `stop_reason` `tool_use`/`end_turn`, `message_stop`; or one JSON message when
//!   `stream` is false), plus `POST /v1/messages/count_tokens` — used by `claude`;
//! * OpenAI Responses (`POST /v1/responses`, SSE `response.created`, `response.output_item.added`/`done`
//!   with `message`, `function_call` or `custom_tool_call` items, `response.output_text.delta`,
//!   `response.completed` with usage) — used by `codex`;
//! * OpenAI Chat Completions (`POST /v1/chat/completions`, `chat.completion.chunk`s with `content` or
//!   `tool_calls`, a usage chunk, `[DONE]`) — used by `opencode` with an openai-compatible provider;
//! * `GET /v1/models` (one model); anything else is a recorded 404 (OpenCode's background plugin
//!   install is pointed here with `npm_config_registry` so that it fails instead of going online).
//!
//! A test queues the replies of the agent's turn requests in order ([`Reply`]: text, a tool call, an
//! HTTP error with the provider's error body, or an answer that never comes) and reads every request
//! back ([`RecordedRequest`]), e.g. to check that a resumed turn re-sent the earlier conversation.
//! Requests that carry no tools are the CLIs' side requests (OpenCode's session title): they get a
//! short canned text and never take a queued reply, so the queue holds exactly the turn's answers.
//! A turn request with an empty queue is answered 500 "no reply queued", which fails the CLI visibly.
//!
//! Layout: `api` (the handle tests hold), `reply` (what tests queue, the providers' error bodies),
//! `server` (routing and recording), `anthropic`, `responses`, `chat` (one wire format each), `sse`.

mod anthropic;
mod api;
mod chat;
mod reply;
mod responses;
mod server;
mod sse;

#[allow(unused_imports)]
pub use api::{FakeModelApi, RecordedRequest, WireApi};
pub use reply::Reply;
