//! "Switchboard is typing…" while a turn works. Discord shows the indicator for ten seconds or
//! until the bot's next message, so it is renewed every eight seconds in each channel where a
//! turn is working. The outlet says when: a turn's status message posted or edited starts (or
//! keeps) it, the turn's result posted ends it — and the status edit that follows the answer
//! (its "Done") does not start it again. Typing is a courtesy: failures are logged and
//! forgotten, and a channel nobody ended is dropped after a while.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::client::DiscordClient;

/// How often the indicator is renewed (it lasts ten seconds).
const RENEW_EVERY: Duration = Duration::from_secs(8);
/// A channel with no word from its turn for this long stops typing.
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The last sign that a turn works here.
    seen: Instant,
    /// The last typing call.
    sent: Option<Instant>,
}

#[derive(Debug, Default)]
pub struct Typing {
    channels: Mutex<HashMap<String, Entry>>,
    /// The turn that last ended in each channel: word from it no longer means work.
    ended: Mutex<HashMap<String, String>>,
    changed: Notify,
}

impl Typing {
    /// `turn` works in `channel` (unless it has ended there).
    pub fn working(&self, channel: &str, turn: &str) {
        let ended = self.ended.lock().expect("typing");
        if ended.get(channel).is_some_and(|t| t == turn) {
            return;
        }
        drop(ended);
        let now = Instant::now();
        let mut channels = self.channels.lock().expect("typing");
        let entry = channels.entry(channel.to_owned()).or_insert(Entry {
            seen: now,
            sent: None,
        });
        entry.seen = now;
        drop(channels);
        self.changed.notify_one();
    }

    /// `turn` in `channel` ended.
    pub fn done(&self, channel: &str, turn: &str) {
        self.ended
            .lock()
            .expect("typing")
            .insert(channel.to_owned(), turn.to_owned());
        self.channels.lock().expect("typing").remove(channel);
    }

    /// The channels due for a typing call now (marked as sent), and when the next one is due.
    fn due(&self, now: Instant) -> (Vec<String>, Option<Instant>) {
        let mut channels = self.channels.lock().expect("typing");
        channels.retain(|_, e| now.duration_since(e.seen) < FORGET_AFTER);
        let mut due = Vec::new();
        let mut next: Option<Instant> = None;
        for (channel, entry) in channels.iter_mut() {
            match entry.sent {
                Some(sent) if now < sent + RENEW_EVERY => {
                    let at = sent + RENEW_EVERY;
                    next = Some(next.map_or(at, |n| n.min(at)));
                }
                _ => {
                    entry.sent = Some(now);
                    due.push(channel.clone());
                    let at = now + RENEW_EVERY;
                    next = Some(next.map_or(at, |n| n.min(at)));
                }
            }
        }
        (due, next)
    }
}

/// Sends the typing calls forever.
pub async fn run(client: Arc<DiscordClient>, typing: Arc<Typing>) -> Result<()> {
    loop {
        let (due, next) = typing.due(Instant::now());
        for channel in due {
            if let Err(e) = client.typing(&channel).await {
                tracing::debug!(channel, "typing indicator: {e}");
            }
        }
        let wake = next.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            () = typing.changed.notified() => {}
            () = tokio::time::sleep_until(wake) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn typing_is_renewed_while_working_and_stops_when_done() {
        let typing = Typing::default();
        let start = Instant::now();
        assert_eq!(typing.due(start).0, Vec::<String>::new());
        typing.working("5", "t1");
        let (due, next) = typing.due(start);
        assert_eq!(due, ["5"]);
        assert_eq!(next, Some(start + RENEW_EVERY));
        assert!(typing.due(start + Duration::from_secs(1)).0.is_empty());
        assert_eq!(typing.due(start + RENEW_EVERY).0, ["5"]);
        typing.done("5", "t1");
        assert!(typing.due(start + RENEW_EVERY * 3).0.is_empty());
        typing.working("6", "t2");
        assert_eq!(typing.due(start).0, ["6"]);
        assert!(
            typing.due(start + FORGET_AFTER).0.is_empty(),
            "forgotten without a word"
        );
    }

    /// The answer goes first and the status's "Done" right after it: that edit is no sign of
    /// work, while the next turn's status is.
    #[tokio::test(start_paused = true)]
    async fn the_status_edited_after_the_answer_does_not_start_typing_again() {
        let typing = Typing::default();
        let start = Instant::now();
        typing.working("5", "t1");
        assert_eq!(typing.due(start).0, ["5"]);
        typing.done("5", "t1");
        typing.working("5", "t1");
        assert!(typing.due(start + RENEW_EVERY).0.is_empty(), "t1 is over");
        typing.working("5", "t2");
        assert_eq!(typing.due(start + RENEW_EVERY).0, ["5"], "t2 works");
    }
}
