//! Telegram's decisions: the allowlists decide who may ask; prompts go to the agent as typed;
//! turns end the chat way (the status message shows the outcome, the answer follows).

use anyhow::Result;

use crate::core::access::Access;
use crate::core::frontend::{Admission, Frontend, Refusal};
use crate::core::inbound::Inbound;
use crate::core::thread::Platform;
use crate::runner::transport::BoxFuture;

pub struct TelegramFrontend {
    access: Access,
}

impl TelegramFrontend {
    pub fn new(access: Access) -> TelegramFrontend {
        TelegramFrontend { access }
    }
}

impl Frontend for TelegramFrontend {
    fn platform(&self) -> Platform {
        Platform::Telegram
    }

    fn admit<'a>(&'a self, event: &'a Inbound) -> BoxFuture<'a, Result<Admission>> {
        let admission = if self.access.allows(&event.thread, &event.author) {
            Admission::Allowed
        } else {
            Admission::Refused(Refusal::NotAllowed {
                user_id: event.author.id.clone(),
            })
        };
        Box::pin(async move { Ok(admission) })
    }
}
