//! Who may run anything (DESIGN invariant 7): per-platform allowlists of users and chats.
//!
//! A user on the user list may use the bot in any chat; everyone in a chat on the chat list may
//! use it there. Anyone else is refused, and the refusal is audited. An empty configuration
//! allows nobody: a bot that answers strangers by default would hand out a shell.

use std::collections::HashSet;

use crate::domain::thread::{Author, ThreadRef};

#[derive(Debug, Clone, Default)]
pub struct Access {
    users: HashSet<String>,
    chats: HashSet<String>,
}

impl Access {
    pub fn new<U, C>(users: U, chats: C) -> Access
    where
        U: IntoIterator,
        U::Item: ToString,
        C: IntoIterator,
        C::Item: ToString,
    {
        Access {
            users: users.into_iter().map(|u| u.to_string()).collect(),
            chats: chats.into_iter().map(|c| c.to_string()).collect(),
        }
    }

    pub fn allows(&self, thread: &ThreadRef, author: &Author) -> bool {
        self.users.contains(&author.id) || self.chats.contains(&thread.chat)
    }

    /// True when nobody at all is allowed (worth a warning at start-up).
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.chats.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::thread::Platform;

    fn thread(chat: &str) -> ThreadRef {
        ThreadRef {
            platform: Platform::Telegram,
            chat: chat.into(),
            topic: None,
        }
    }

    fn user(id: &str) -> Author {
        Author {
            id: id.into(),
            display: "x".into(),
        }
    }

    #[test]
    fn users_anywhere_and_everyone_in_allowed_chats() {
        let access = Access::new([7], [-100]);
        assert!(access.allows(&thread("5"), &user("7")));
        assert!(access.allows(&thread("-100"), &user("9")));
        assert!(!access.allows(&thread("5"), &user("9")));
        assert!(!access.allows(&thread("-101"), &user("8")));
        assert!(Access::default().is_empty());
        assert!(!Access::default().allows(&thread("1"), &user("1")));
    }
}
