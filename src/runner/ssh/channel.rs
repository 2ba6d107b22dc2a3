//! A channel guard that stops the remote command when its caller gives up, and holds the
//! channel's slot in the pool until sshd has let the session go.

use std::time::Duration;

use russh::client::Msg;
use russh::{Channel, ChannelMsg, Sig};

use crate::runner::ssh::pool::Lease;

/// How long an abandoned channel's command may take to die (and sshd to close the channel)
/// before we close it ourselves and free its slot.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// An open session channel and its slot. Unless [`ChannelGuard::finished`] was called, dropping
/// it kills the remote command (a `signal` request: sshd signals the command's process group)
/// and frees the slot in the background once sshd has closed the channel (or after
/// [`CLOSE_WAIT`], closing it ourselves). That keeps the pool's slot count in step with sshd's
/// session count.
pub(super) struct ChannelGuard {
    channel: Option<Channel<Msg>>,
    lease: Option<Lease>,
}

impl ChannelGuard {
    pub(super) fn new(channel: Channel<Msg>, lease: Lease) -> Self {
        Self {
            channel: Some(channel),
            lease: Some(lease),
        }
    }

    pub(super) fn channel(&mut self) -> &mut Channel<Msg> {
        self.channel
            .as_mut()
            .expect("the channel is present until drop")
    }

    /// The channel is closed (or its connection is gone): nothing to clean up.
    pub(super) fn finished(&mut self) {
        self.channel = None;
    }

    /// Kills the command and closes the channel now, waiting (briefly) for the close.
    pub(super) async fn abandon(&mut self) {
        if let Some(channel) = self.channel.take() {
            close_channel(channel).await;
        }
    }
}

impl Drop for ChannelGuard {
    fn drop(&mut self) {
        let (Some(channel), lease) = (self.channel.take(), self.lease.take()) else {
            return;
        };
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                close_channel(channel).await;
                drop(lease);
            });
        }
    }
}

async fn close_channel(mut channel: Channel<Msg>) {
    let _ = channel.signal(Sig::KILL).await;
    // sshd closes the channel once the command is gone, and russh answers that close itself.
    // Our own close, sent first, would make russh drop the server's answer and leave us
    // guessing when sshd released the session, so it is only the fallback.
    let closed_by_server = tokio::time::timeout(CLOSE_WAIT, async {
        while let Some(msg) = channel.wait().await {
            if matches!(msg, ChannelMsg::Close) {
                return;
            }
        }
    })
    .await;
    if closed_by_server.is_err() {
        let _ = channel.close().await;
    }
}
