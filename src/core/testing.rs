//! A core on a fresh SQLite store, with the frontends a unit test gives it, and events to feed
//! it: for tests of the loops that drive the core (the router, the outbox).

use std::sync::Arc;

use super::Core;
use super::frontend::Frontend;
use super::inbound::{Inbound, InboundBody};
use super::thread::{Author, Platform, ThreadRef};
use crate::agents::claude::Claude;
use crate::config::Config;
use crate::runner::hosts::Hosts;
use crate::store::Store;

/// The core and the directory its database lives in (deleted when dropped).
pub async fn core(frontends: Vec<Arc<dyn Frontend>>) -> (Arc<Core>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let store = Store::open(&url, 2).await.expect("a store");
    let config = Config::default();
    let core = Core::new(
        store,
        Hosts::from_config(&config).expect("hosts"),
        Claude::new(config.agents.claude.clone()),
        config.defaults.clone(),
        config.budgets.clone(),
        frontends,
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
