//! Configuration of the fake server. The defaults are Telegram's published
//! limits, so a test that does not touch them checks the bot against the real
//! thing; tests that need many messages quickly lower them explicitly.

use std::time::Duration;

use super::faults::RandomFaults;

#[derive(Debug, Clone)]
pub struct FakeTelegramConfig {
    /// Bot token; the part before `:` is the bot's user id, as on Telegram.
    /// Default `123456:TEST-fake-telegram-token`.
    pub token: String,
    /// The bot's username (without `@`). Default `switchboard_test_bot`.
    pub bot_username: String,
    /// The bot's display name. Default `Switchboard`.
    pub bot_first_name: String,
    /// Minimum time between two counted calls to one chat. Default 1 s
    /// ("avoid sending more than one message per second" to a chat).
    pub per_chat_min_interval: Duration,
    /// Counted calls a group or supergroup accepts in any rolling minute.
    /// Default 20.
    pub per_group_per_minute: u32,
    /// Counted calls accepted across all chats in any rolling second. Default 30.
    pub global_per_second: u32,
    /// Slack granted to every timing check, for scheduling jitter between the
    /// bot's clock and the fake's. Default 50 ms.
    pub tolerance: Duration,
    /// First pause before re-posting an update a webhook refused; doubles up to
    /// `webhook_retry_max`. Default 50 ms (Telegram's is longer and unpublished).
    pub webhook_retry_initial: Duration,
    /// Longest pause between webhook retries. Default 1 s.
    pub webhook_retry_max: Duration,
    /// Refuse a random share of posts and edits before they take effect. Default: never.
    pub faults: Option<RandomFaults>,
}

impl Default for FakeTelegramConfig {
    fn default() -> Self {
        Self {
            token: "123456:TEST-fake-telegram-token".to_string(),
            bot_username: "switchboard_test_bot".to_string(),
            bot_first_name: "Switchboard".to_string(),
            per_chat_min_interval: Duration::from_secs(1),
            per_group_per_minute: 20,
            global_per_second: 30,
            tolerance: Duration::from_millis(50),
            webhook_retry_initial: Duration::from_millis(50),
            webhook_retry_max: Duration::from_secs(1),
            faults: None,
        }
    }
}

impl FakeTelegramConfig {
    /// The defaults with every rate limit switched off, for tests about
    /// something else that send many messages. Windows opened by
    /// [`storm`](super::FakeTelegram::storm) still apply.
    pub fn without_rate_limits() -> Self {
        Self {
            per_chat_min_interval: Duration::ZERO,
            per_group_per_minute: u32::MAX,
            global_per_second: u32::MAX,
            ..Self::default()
        }
    }

    /// The bot's user id: the token's numeric prefix.
    pub fn bot_id(&self) -> i64 {
        self.token
            .split_once(':')
            .and_then(|(id, _)| id.parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "FakeTelegramConfig::token must look like `123456:secret`, got {:?}",
                    self.token
                )
            })
    }
}
