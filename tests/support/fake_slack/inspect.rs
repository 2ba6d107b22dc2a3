//! Reading what the bot did, and waiting for it.
//!
//! Waiting never sleeps on a timer: every waiter registers for the fake's
//! change signal *before* looking at the state, then sleeps until the next
//! change (or its deadline), so no change between the look and the sleep can
//! be missed. A timeout panics with what the bot did post and which of its
//! calls failed, which is usually the whole diagnosis.

use std::fmt::Write as _;
use std::time::Duration;

use super::api::FakeSlack;
use super::types::{
    AckRecord, CallRecord, Connection, Envelope, Ephemeral, FakeChannel, FakeUser, HttpDelivery,
    SharedFile, SlackMessage, SlashInvocation, SlashResponse, Violation,
};

impl FakeSlack {
    /// Every message of `channel` (top level and threads, deleted ones
    /// included), oldest first.
    pub fn messages(&self, channel: &FakeChannel) -> Vec<SlackMessage> {
        self.shared().lock().views(&channel.id)
    }

    pub fn message(&self, channel: &FakeChannel, ts: &str) -> Option<SlackMessage> {
        self.shared()
            .lock()
            .message(&channel.id, ts)
            .map(|m| m.view(&channel.id))
    }

    /// The bot's messages at the top level of `channel` (`thread: None`) or
    /// in the thread of `thread` (the parent excluded), oldest first, each
    /// with every text it showed.
    pub fn bot_messages(&self, channel: &FakeChannel, thread: Option<&str>) -> Vec<SlackMessage> {
        let bot = self.shared().bot_user().to_string();
        self.messages(channel)
            .into_iter()
            .filter(|m| m.user.as_deref() == Some(bot.as_str()))
            .filter(|m| match thread {
                None => !m.is_reply(),
                Some(t) => m.is_reply() && m.thread_ts.as_deref() == Some(t),
            })
            .collect()
    }

    /// `(emoji, users)` on a message.
    pub fn reactions(&self, channel: &FakeChannel, ts: &str) -> Vec<(String, Vec<String>)> {
        self.message(channel, ts)
            .map(|m| m.reactions)
            .unwrap_or_default()
    }

    /// Files shared in `channel`, in upload order.
    pub fn files(&self, channel: &FakeChannel) -> Vec<SharedFile> {
        self.shared()
            .lock()
            .files
            .values()
            .filter(|f| f.channel.as_deref() == Some(channel.id.as_str()))
            .cloned()
            .collect()
    }

    /// Every file, shared or not.
    pub fn all_files(&self) -> Vec<SharedFile> {
        self.shared().lock().files.values().cloned().collect()
    }

    /// Ephemeral messages shown to `user`.
    pub fn ephemerals(&self, user: &FakeUser) -> Vec<Ephemeral> {
        let st = self.shared().lock();
        st.ephemerals
            .iter()
            .filter(|e| e.user == user.id)
            .cloned()
            .collect()
    }

    pub fn slash_invocations(&self) -> Vec<SlashInvocation> {
        self.shared().lock().slash_invocations.clone()
    }

    pub fn slash_responses(&self) -> Vec<SlashResponse> {
        self.shared().lock().slash_responses.clone()
    }

    /// Every Web API call answered, in order.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.shared().lock().calls.clone()
    }

    /// Calls of one method.
    pub fn calls_to(&self, method: &str) -> Vec<CallRecord> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == method)
            .collect()
    }

    /// Calls made inside a `Retry-After` window.
    pub fn violations(&self) -> Vec<Violation> {
        self.shared().lock().violations.clone()
    }

    /// Socket Mode envelopes, in creation order.
    pub fn envelopes(&self) -> Vec<Envelope> {
        let st = self.shared().lock();
        st.envelopes.iter().map(|e| e.envelope.clone()).collect()
    }

    /// Envelopes not acknowledged (yet): sent and waiting, queued for a
    /// connection, or given up.
    pub fn unacked(&self) -> Vec<Envelope> {
        self.envelopes()
            .into_iter()
            .filter(|e| !e.acked())
            .collect()
    }

    pub fn acks(&self) -> Vec<AckRecord> {
        self.shared().lock().acks.clone()
    }

    /// Socket Mode connections, open and closed, in opening order.
    pub fn connections(&self) -> Vec<Connection> {
        let st = self.shared().lock();
        st.connections.values().map(|c| c.record.clone()).collect()
    }

    /// Connections open now.
    pub fn open_connections(&self) -> Vec<Connection> {
        let st = self.shared().lock();
        st.connections
            .values()
            .filter(|c| c.tx.is_some())
            .map(|c| c.record.clone())
            .collect()
    }

    pub fn http_deliveries(&self) -> Vec<HttpDelivery> {
        self.shared().lock().http_deliveries.clone()
    }

    // ---- Waiting -----------------------------------------------------------

    /// Waits until `check` finds something, re-checking after every change
    /// to the fake. `None` after `timeout`.
    pub async fn wait_for<T>(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&Self) -> Option<T>,
    ) -> Option<T> {
        crate::support::waiting::until(&self.shared().changed, timeout, || check(self)).await
    }

    /// Waits until a bot message at the top level (`thread: None`) or in a
    /// thread currently matches; returns the earliest such message.
    pub async fn wait_for_bot_message(
        &self,
        channel: &FakeChannel,
        thread: Option<&str>,
        predicate: impl Fn(&SlackMessage) -> bool,
        timeout: Duration,
    ) -> SlackMessage {
        let found = self
            .wait_for(timeout, |f| {
                f.bot_messages(channel, thread)
                    .into_iter()
                    .find(|m| predicate(m))
            })
            .await;
        found.unwrap_or_else(|| {
            panic!(
                "no bot message in {} ({:?}) matched within {timeout:?}\n{}",
                channel.id,
                thread,
                self.describe(channel)
            )
        })
    }

    /// Waits until the bot reacted with `name` on the message.
    pub async fn wait_for_reaction(
        &self,
        channel: &FakeChannel,
        ts: &str,
        name: &str,
        timeout: Duration,
    ) {
        let bot = self.shared().bot_user().to_string();
        let found = self
            .wait_for(timeout, |f| {
                f.reactions(channel, ts)
                    .iter()
                    .any(|(n, users)| n == name && users.contains(&bot))
                    .then_some(())
            })
            .await;
        if found.is_none() {
            panic!(
                "no :{name}: by the bot on {ts} within {timeout:?}; reactions: {:?}\n{}",
                self.reactions(channel, ts),
                self.describe(channel)
            );
        }
    }

    /// Waits until at least `n` Socket Mode connections are open.
    pub async fn wait_for_connections(&self, n: usize, timeout: Duration) -> Vec<Connection> {
        let found = self
            .wait_for(timeout, |f| {
                let open = f.open_connections();
                (open.len() >= n).then_some(open)
            })
            .await;
        found.unwrap_or_else(|| {
            panic!(
                "{n} open connections not reached within {timeout:?}; connections: {:?}",
                self.connections()
            )
        })
    }

    /// Waits until the envelope carrying `event_id` was acknowledged.
    pub async fn wait_for_event_acked(&self, event_id: &str, timeout: Duration) -> Envelope {
        let found = self
            .wait_for(timeout, |f| {
                f.envelopes()
                    .into_iter()
                    .find(|e| e.event_id.as_deref() == Some(event_id) && e.acked())
            })
            .await;
        found.unwrap_or_else(|| {
            panic!(
                "event {event_id} not acknowledged within {timeout:?}; envelopes: {:#?}",
                self.envelopes()
            )
        })
    }

    /// Waits until a slash command response matches.
    pub async fn wait_for_slash_response(
        &self,
        predicate: impl Fn(&SlashResponse) -> bool,
        timeout: Duration,
    ) -> SlashResponse {
        let found = self
            .wait_for(timeout, |f| {
                f.slash_responses().into_iter().find(|r| predicate(r))
            })
            .await;
        found.unwrap_or_else(|| {
            panic!(
                "no slash command response matched within {timeout:?}; responses: {:?}",
                self.slash_responses()
            )
        })
    }

    /// Waits until an ephemeral message to `user` matches.
    pub async fn wait_for_ephemeral(
        &self,
        user: &FakeUser,
        predicate: impl Fn(&Ephemeral) -> bool,
        timeout: Duration,
    ) -> Ephemeral {
        let found = self
            .wait_for(timeout, |f| {
                f.ephemerals(user).into_iter().find(|e| predicate(e))
            })
            .await;
        found.unwrap_or_else(|| {
            panic!(
                "no ephemeral to {} matched within {timeout:?}; ephemerals: {:?}",
                user.id,
                self.ephemerals(user)
            )
        })
    }

    /// Waits until a file shared in `channel` matches.
    pub async fn wait_for_file(
        &self,
        channel: &FakeChannel,
        predicate: impl Fn(&SharedFile) -> bool,
        timeout: Duration,
    ) -> SharedFile {
        let found = self
            .wait_for(timeout, |f| {
                f.files(channel).into_iter().find(|x| predicate(x))
            })
            .await;
        found.unwrap_or_else(|| {
            panic!(
                "no file in {} matched within {timeout:?}\n{}",
                channel.id,
                self.describe(channel)
            )
        })
    }

    /// Waits until an HTTP delivery matches.
    pub async fn wait_for_http_delivery(
        &self,
        predicate: impl Fn(&HttpDelivery) -> bool,
        timeout: Duration,
    ) -> HttpDelivery {
        let found = self
            .wait_for(timeout, |f| {
                f.http_deliveries().into_iter().find(|d| predicate(d))
            })
            .await;
        found.unwrap_or_else(|| {
            panic!(
                "no HTTP delivery matched within {timeout:?}; deliveries: {:#?}",
                self.http_deliveries()
            )
        })
    }

    /// What is in a channel and which calls failed: the timeout diagnosis.
    fn describe(&self, channel: &FakeChannel) -> String {
        let mut out = format!("messages in {} (oldest first):\n", channel.id);
        for m in self.messages(channel) {
            let _ = writeln!(
                out,
                "  {} thread={:?} by {:?} ({} edits){}: {:?}",
                m.ts,
                m.thread_ts,
                m.user,
                m.edits(),
                if m.deleted { " deleted" } else { "" },
                short(&m.text)
            );
        }
        out.push_str("failed calls:\n");
        for c in self.calls().iter().filter(|c| c.error.is_some()) {
            let _ = writeln!(out, "  {} -> {} {:?}", c.method, c.http_status, c.error);
        }
        out
    }
}

fn short(text: &str) -> String {
    let mut s: String = text.chars().take(120).collect();
    if s.len() < text.len() {
        s.push('…');
    }
    s
}
