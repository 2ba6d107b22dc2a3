//! Platform adapters. Each platform module translates the platform's payloads into core events
//! and delivers the core's outbound messages; platform crate types never leave its module.
//! What every platform needs — pacing within published limits and draining the outbox — lives
//! here, generic over an [`outlet::Outlet`].

pub mod discord;
pub mod download;
pub mod github;
pub mod hooks;
pub mod outlet;
pub mod pacing;
pub mod signature;
pub mod slack;
pub mod telegram;
pub mod web;
