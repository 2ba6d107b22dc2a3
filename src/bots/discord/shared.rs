//! What the gateway side learns and the sending side needs, in memory: which channels are
//! threads (and of which channel), names for threads about to be started, and interactions
//! whose deferred response is still on its way.
//!
//! All of it is a cache or a courtesy: after a restart it is empty, and each user copes —
//! unknown channels are looked up over REST, a thread is created under a generic name (or found
//! to exist already), an interaction's answer goes out without waiting for an acknowledgement
//! this process never sent.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::payload::{Channel, is_thread};

/// How long an interaction's answer waits for its acknowledgement to be sent (Discord's own
/// deadline for the acknowledgement is three seconds).
const ACK_WAIT_MAX: Duration = Duration::from_secs(5);

/// Where a channel is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelKind {
    /// A guild channel that is not a thread.
    TopLevel,
    /// A thread of the guild channel `parent`.
    Thread { parent: String },
}

#[derive(Debug, Default)]
pub struct Shared {
    channels: Mutex<HashMap<String, ChannelKind>>,
    thread_names: Mutex<HashMap<String, String>>,
    pending_acks: Mutex<HashSet<String>>,
}

impl Shared {
    /// Remembers a channel Discord described.
    pub fn learn(&self, channel: &Channel) {
        let kind = match (&channel.parent_id, is_thread(channel.kind)) {
            (Some(parent), true) => ChannelKind::Thread {
                parent: parent.clone(),
            },
            _ => ChannelKind::TopLevel,
        };
        self.channels
            .lock()
            .expect("channels")
            .insert(channel.id.clone(), kind);
    }

    pub fn channel(&self, id: &str) -> Option<ChannelKind> {
        self.channels.lock().expect("channels").get(id).cloned()
    }

    /// Whether `thread` is known to exist as a thread.
    pub fn is_known_thread(&self, thread: &str) -> bool {
        matches!(self.channel(thread), Some(ChannelKind::Thread { .. }))
    }

    /// The thread started from message `topic` of `parent` exists now.
    pub fn thread_started(&self, parent: &str, topic: &str) {
        self.channels.lock().expect("channels").insert(
            topic.to_owned(),
            ChannelKind::Thread {
                parent: parent.to_owned(),
            },
        );
        self.thread_names.lock().expect("names").remove(topic);
    }

    /// The name for the thread to be started from message `topic`.
    pub fn name_thread(&self, topic: &str, name: String) {
        self.thread_names
            .lock()
            .expect("names")
            .insert(topic.to_owned(), name);
    }

    pub fn thread_name(&self, topic: &str) -> Option<String> {
        self.thread_names.lock().expect("names").get(topic).cloned()
    }

    /// An interaction is stored and its acknowledgement about to be sent.
    pub fn ack_pending(&self, interaction: &str) {
        self.pending_acks
            .lock()
            .expect("acks")
            .insert(interaction.to_owned());
    }

    /// The acknowledgement was sent (or given up on).
    pub fn ack_done(&self, interaction: &str) {
        self.pending_acks.lock().expect("acks").remove(interaction);
    }

    /// Waits until the interaction's acknowledgement is out, so its answer does not overtake
    /// it (an answer to an unacknowledged interaction is refused).
    pub async fn wait_for_ack(&self, interaction: &str) {
        let deadline = Instant::now() + ACK_WAIT_MAX;
        while self
            .pending_acks
            .lock()
            .expect("acks")
            .contains(interaction)
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_are_known_with_their_parent() {
        let shared = Shared::default();
        shared.learn(&Channel {
            id: "5".into(),
            kind: 11,
            guild_id: None,
            parent_id: Some("2".into()),
        });
        shared.learn(&Channel {
            id: "2".into(),
            kind: 0,
            guild_id: None,
            parent_id: None,
        });
        assert_eq!(
            shared.channel("5"),
            Some(ChannelKind::Thread { parent: "2".into() })
        );
        assert_eq!(shared.channel("2"), Some(ChannelKind::TopLevel));
        assert!(!shared.is_known_thread("7"));
        shared.name_thread("7", "fix it".into());
        assert_eq!(shared.thread_name("7").as_deref(), Some("fix it"));
        shared.thread_started("2", "7");
        assert!(shared.is_known_thread("7"));
        assert_eq!(shared.thread_name("7"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn answers_wait_for_the_acknowledgement() {
        let shared = std::sync::Arc::new(Shared::default());
        shared.ack_pending("1");
        let waiter = {
            let shared = shared.clone();
            tokio::spawn(async move { shared.wait_for_ack("1").await })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!waiter.is_finished());
        shared.ack_done("1");
        waiter.await.unwrap();
        // Nothing pending: no wait at all.
        let start = Instant::now();
        shared.wait_for_ack("2").await;
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}
