//! Who may have an event acted on: each platform's policy answers [`Admission`], and a refusal
//! says why (the replies word it; every refusal is audited).

use serde::{Deserialize, Serialize};

use super::inbound::Inbound;

/// Whether an event may be acted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    Allowed,
    Refused(Refusal),
}

impl Admission {
    /// Allowed, or refused as not on the allowlists.
    pub fn by_allowlist(allowed: bool, event: &Inbound) -> Admission {
        match allowed {
            true => Admission::Allowed,
            false => Admission::Refused(Refusal::NotAllowed {
                user_id: event.author.id.clone(),
            }),
        }
    }
}

/// Why an author was refused (the replies module words it; every refusal is audited).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// Not on the platform's allowlists.
    NotAllowed { user_id: String },
    /// No write access to the repository.
    NoWriteAccess { login: String, permission: String },
    /// Not worth an answer (an account pretending to be a known bot, the bot itself): audited
    /// only.
    Silent { reason: String },
}
