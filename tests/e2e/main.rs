//! End-to-end tests against the real parts: OpenSSH `sshd` hosts started by the harness, real
//! SQLite files and a real Postgres server, the fake agent, and fake platform servers that speak
//! the platforms' real APIs. One test binary, so the dependency tree is linked once.

// The harness is shared with the benchmark, which uses other parts of it.
#[path = "../support/mod.rs"]
#[allow(dead_code)]
mod support;

mod agent_choice;
mod agents;
mod audit;
mod buttons;
mod changes;
mod chaos;
mod ci_feedback;
mod cleanup;
mod cli;
mod costs;
mod database_errors;
mod deploy;
mod discord;
mod durability;
mod failures;
mod fake_agent;
mod fake_codex;
mod fake_discord_tests;
mod fake_github_tests;
mod fake_opencode;
mod fake_slack_tests;
mod fake_telegram_tests;
mod floods;
mod github;
mod github_client;
mod github_deps;
mod github_issue_triggers;
mod github_issues_pr;
mod hooks;
mod hosts;
mod inbox;
mod pacing;
mod poison;
mod projects;
mod real_agents;
mod real_clis;
mod review_turns;
mod schedules;
mod screenshots;
mod secrets;
mod slack;
mod ssh_transport;
mod store;
mod store_check_watches;
mod telegram;
mod turns;
mod voice;
mod web;
mod web_browser;
mod workspaces;
