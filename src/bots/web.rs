//! The web console as a platform, beside the others (its HTTP side, pages and API, is
//! `src/web`): its prompts go through the core like any chat's (admitted, queued, acknowledged,
//! ended by the same code), and its "delivery" is the outbox itself — the pages read each
//! answer's post from there — so the outlet only marks posts as delivered.

use anyhow::Result;

use crate::bots::outlet::{EditText, MarkupPart, Outlet, PartId, PostFiles, SendError};
use crate::bots::pacing::Limits;
use crate::config::{ADMIN, WebUser};
use crate::core::policy::Policy;
use crate::domain::admission::{Admission, Refusal};
use crate::domain::inbound::Inbound;
use crate::domain::outbound::Post;
use crate::domain::outbox_key::OutboxKey;
use crate::domain::thread::{Platform, ThreadRef};
use futures_util::future::BoxFuture;

/// Who may use the console's sessions: the admin and the configured users.
pub struct WebPolicy {
    users: Vec<String>,
}

impl WebPolicy {
    pub fn new(users: &[WebUser]) -> WebPolicy {
        WebPolicy {
            users: users.iter().map(|u| u.name.clone()).collect(),
        }
    }
}

impl Policy for WebPolicy {
    fn platform(&self) -> Platform {
        Platform::Web
    }

    /// The API already checked the sign-in; this checks again that the author still exists and
    /// writes in a thread of their own (an admin may write anywhere).
    fn admit<'a>(&'a self, event: &'a Inbound) -> BoxFuture<'a, Result<Admission>> {
        let author = &event.author.id;
        let known = author == ADMIN || self.users.contains(author);
        let own = author == ADMIN || event.thread.chat == *author;
        let admission = if known && own {
            Admission::Allowed
        } else {
            Admission::Refused(Refusal::NotAllowed {
                user_id: author.clone(),
            })
        };
        Box::pin(async move { Ok(admission) })
    }
}

/// Marks the console's posts delivered: the outbox row is what its pages show.
pub struct WebOutlet;

/// No platform behind it: nothing to pace.
pub fn limits() -> Limits {
    Limits {
        per_chat_interval: std::time::Duration::ZERO,
        per_group: u32::MAX,
        group_window: std::time::Duration::from_secs(1),
        global: u32::MAX,
        global_window: std::time::Duration::from_secs(1),
    }
}

impl Outlet for WebOutlet {
    type Part = MarkupPart;

    fn platform(&self) -> Platform {
        Platform::Web
    }

    fn is_group(&self, _chat: &str) -> bool {
        false
    }

    /// One part: the post is shown whole.
    fn parts(&self, post: &Post) -> Vec<MarkupPart> {
        vec![MarkupPart::Text(post.markdown.clone())]
    }

    fn send<'a>(
        &'a self,
        _thread: &'a ThreadRef,
        id: PartId<'a>,
        _part: &'a MarkupPart,
        _post: &'a Post,
        _files: PostFiles<'a>,
    ) -> BoxFuture<'a, Result<String, SendError>> {
        Box::pin(async move { Ok(id.key.to_string()) })
    }

    fn edit<'a>(
        &'a self,
        _thread: &'a ThreadRef,
        _target: &'a OutboxKey,
        _message_id: &'a str,
        _text: EditText<'a>,
        _plain: bool,
    ) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async { Ok(()) })
    }
}
