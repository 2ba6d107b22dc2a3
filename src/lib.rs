//! Switchboard: drive coding agents on SSH workspace hosts from the chats you already use.
//!
//! The layout follows the data: platform adapters (`bots`) store inbound events and deliver the
//! outbox; the platform-neutral `core` turns events into sessions, queued turns and replies;
//! `runner` starts and follows turns on hosts; `agents` knows each agent CLI; `reviews` is the
//! dependency-review feature (what an update changes, the facts its turn gathers on the host
//! before the agent, the review's text); `store` keeps everything durable; `render` formats
//! Markdown per platform; `audit` reads the trail back; `edge` is what every HTTP entry point
//! shares (who sent a request, how a refusal is recorded).
//! `app` wires it all together; `panics` lets a panic cost only the piece of work it hit.
//! See docs/design.md for the invariants and how each is kept.

pub mod agents;
pub mod app;
pub mod audit;
pub mod bots;
pub mod check;
pub mod config;
pub mod core;
pub mod domain;
pub mod edge;
pub mod panics;
pub mod render;
pub mod reviews;
pub mod runner;
pub mod store;
pub mod web;
