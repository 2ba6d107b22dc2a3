//! Where a conversation happens, in platform-neutral terms.
//!
//! The core never sees a platform type: a chat thread is a [`ThreadRef`] of opaque strings that
//! only the platform's adapter interprets (for Telegram, the chat id and the forum topic id; for
//! GitHub, the repository and the issue or pull request).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The chat platforms Switchboard speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Telegram,
    GitHub,
    Slack,
    Discord,
    /// The embedded web console.
    Web,
}

impl Platform {
    pub const ALL: [Platform; 5] = [
        Platform::Telegram,
        Platform::GitHub,
        Platform::Slack,
        Platform::Discord,
        Platform::Web,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Telegram => "telegram",
            Platform::GitHub => "github",
            Platform::Slack => "slack",
            Platform::Discord => "discord",
            Platform::Web => "web",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads what [`Platform::as_str`] writes.
impl FromStr for Platform {
    type Err = String;

    fn from_str(text: &str) -> Result<Platform, String> {
        Platform::ALL
            .into_iter()
            .find(|p| p.as_str() == text)
            .ok_or_else(|| format!("unknown platform {text:?}"))
    }
}

/// A thread: the unit a session is bound to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ThreadRef {
    pub platform: Platform,
    /// The chat (Telegram chat id, GitHub `owner/repo`, Slack channel id, Discord channel id).
    /// `/sessions` lists the sessions of one chat.
    pub chat: String,
    /// The thread inside the chat (Telegram forum topic id, GitHub `pr/7` or `issue/7`, the
    /// `ts` of a Slack thread's first message, a Discord thread's channel id), if any.
    pub topic: Option<String>,
}

impl ThreadRef {
    /// One string naming the thread within its platform: `chat` or `chat/topic`.
    pub fn key(&self) -> String {
        match &self.topic {
            Some(topic) => format!("{}/{}", self.chat, topic),
            None => self.chat.clone(),
        }
    }
}

/// Who sent something, as the platform identifies them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    /// Stable platform user id.
    pub id: String,
    /// A name to show (username or first name).
    pub display: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_platform_reads_back_as_written() {
        for platform in Platform::ALL {
            assert_eq!(platform.as_str().parse(), Ok(platform));
            assert_eq!(
                serde_json::to_value(platform).unwrap(),
                serde_json::json!(platform.as_str())
            );
        }
        assert!("Telegram".parse::<Platform>().is_err());
    }
}
