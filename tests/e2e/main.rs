//! End-to-end tests against the real parts: OpenSSH `sshd` hosts started by the harness, real
//! SQLite files and a real Postgres server, the fake agent, and fake platform servers that speak
//! the platforms' real APIs. One test binary, so the dependency tree is linked once.

#[path = "../support/mod.rs"]
mod support;

mod durability;
mod failures;
mod fake_agent;
mod fake_telegram_tests;
mod ssh_transport;
mod store;
mod telegram;
mod turns;
