//! The test harness: real sshd hosts, fake platform servers, databases, and the running bot.

pub mod agent_clis;
pub mod browser;
pub mod db;
pub mod discord_world;
pub mod draws;
pub mod fake_discord;
pub mod fake_github;
pub mod fake_model_api;
pub mod fake_slack;
pub mod fake_telegram;
pub mod fake_transcription;
pub mod git;
pub mod harness;
pub mod ports;
pub mod procs;
pub mod screens;
pub mod slack_world;
pub mod sshd;
pub mod telegram_html;
pub mod waiting;
pub mod web_client;
