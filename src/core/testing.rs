//! A core on a fresh SQLite store, with the policies a unit test gives it, events to feed it,
//! and a policy that panics once: for tests of the loops that drive the core (the router, the
//! workers, the outbox).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;

use super::Core;
use super::policy::{Ending, Policy, chat_ending};
use crate::config::Config;
use crate::domain::admission::Admission;
use crate::domain::inbound::{Inbound, InboundBody};
use crate::domain::outbound::Outbound;
use crate::domain::thread::{Author, Platform, ThreadRef};
use crate::runner::hosts::Hosts;
use crate::store::Store;
use futures_util::future::BoxFuture;

/// The core and the directory its database lives in (deleted when dropped).
pub async fn core(policies: Vec<Arc<dyn Policy>>) -> (Arc<Core>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let store = Store::open(&url, 2).await.expect("a store");
    let config = Config::default();
    let core = Core::new(
        store,
        Hosts::from_config(&config).expect("hosts"),
        &config,
        policies,
        None,
    );
    (core, dir)
}

/// An event from user `7` in Telegram chat `100`.
pub fn event(external_id: &str, body: InboundBody) -> Inbound {
    Inbound {
        external_id: external_id.to_owned(),
        thread: ThreadRef {
            platform: Platform::Telegram,
            chat: "100".to_owned(),
            topic: None,
        },
        author: Author {
            id: "7".to_owned(),
            display: "@ann".to_owned(),
        },
        message_id: Some(external_id.to_owned()),
        body,
        files: Vec::new(),
        context: None,
    }
}

/// Where [`PanicsOnce`] panics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bug {
    /// In its first admission (while the router handles an event).
    InAdmit,
    /// In the first turn it presents (while a worker finishes a turn).
    InPresent,
}

/// Telegram's policy as a chat presents it, but with an injected bug: its first call of one
/// kind panics, every later one works.
pub struct PanicsOnce {
    bug: Bug,
    panicked: AtomicBool,
}

impl PanicsOnce {
    pub fn new(bug: Bug) -> Self {
        Self {
            bug,
            panicked: AtomicBool::new(false),
        }
    }

    fn maybe_panic(&self, at: Bug) {
        if at == self.bug && !self.panicked.swap(true, Ordering::SeqCst) {
            panic!("an injected bug");
        }
    }
}

impl Policy for PanicsOnce {
    fn platform(&self) -> Platform {
        Platform::Telegram
    }

    fn admit<'a>(&'a self, _event: &'a Inbound) -> BoxFuture<'a, Result<Admission>> {
        self.maybe_panic(Bug::InAdmit);
        Box::pin(async { Ok(Admission::Allowed) })
    }

    fn present(&self, ending: &Ending<'_>) -> Vec<Outbound> {
        self.maybe_panic(Bug::InPresent);
        chat_ending(ending)
    }
}
