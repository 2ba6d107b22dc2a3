//! One SSH connection: address parsing, the russh handler that checks the host key, connect +
//! public-key auth under one deadline, and a channel guard that stops the remote command when
//! its caller gives up.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, AuthResult, Handle, Msg};
use russh::keys::{PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh::{Channel, ChannelMsg, Sig};

use crate::runner::ssh::SshSettings;
use crate::runner::ssh::host_keys::{fingerprint, preferred_key_algorithms};
use crate::runner::ssh::pool::Lease;
use crate::runner::transport::TransportError;

/// How long an abandoned channel's command may take to die (and sshd to close the channel)
/// before we close it ourselves and free its slot.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Where to connect: the host part (as written, for known_hosts lookups) and the port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Target {
    pub(super) host: String,
    pub(super) port: u16,
}

/// Parses `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 literal (port 22).
pub(super) fn parse_address(address: &str) -> Result<Target, String> {
    let bad = |why: &str| format!("invalid address {address:?}: {why}");
    let parse_port = |p: &str| {
        p.parse::<u16>()
            .map_err(|_| bad("the port is not a number"))
    };
    let address = address.trim();
    let (host, port) = if let Some(rest) = address.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(|| bad("missing `]`"))?;
        let port = match after {
            "" => 22,
            _ => parse_port(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| bad("expected `:port` after `]`"))?,
            )?,
        };
        (host, port)
    } else {
        match address.split_once(':') {
            Some((host, port)) if !port.contains(':') => (host, parse_port(port)?),
            // Two or more colons: a bare IPv6 literal.
            Some(_) => (address, 22),
            None => (address, 22),
        }
    };
    if host.is_empty() {
        return Err(bad("the host is empty"));
    }
    Ok(Target {
        host: host.to_owned(),
        port,
    })
}

/// Why russh gave up, in our terms.
#[derive(Debug)]
pub(super) enum ClientError {
    Ssh(russh::Error),
    Refused(TransportError),
}

impl From<russh::Error> for ClientError {
    fn from(e: russh::Error) -> Self {
        ClientError::Ssh(e)
    }
}

/// The russh handler: checks the host key against the policy and records a refusal, so the
/// caller reports `HostKeyMismatch` rather than whatever generic error russh surfaces.
pub(super) struct Client {
    settings: Arc<SshSettings>,
    target: Target,
    refusal: Arc<Mutex<Option<TransportError>>>,
}

impl client::Handler for Client {
    type Error = ClientError;

    async fn check_server_key(
        &mut self,
        server_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let verdict = match server_key {
            PublicKeyOrCertificate::PublicKey { key, .. } => self.settings.host_keys.check(
                &self.settings.name,
                &self.target.host,
                self.target.port,
                key,
            ),
            // We never advertise certificate algorithms, so a certificate here is unexpected:
            // refuse it rather than guess which authority to trust.
            PublicKeyOrCertificate::Certificate(cert) => Err(TransportError::HostKeyMismatch {
                host: self.settings.name.clone(),
                presented: fingerprint(&cert.public_key().clone().into()),
            }),
        };
        match verdict {
            Ok(()) => Ok(true),
            Err(e) => {
                tracing::error!(host = %self.settings.name, error = %e, "refusing the ssh host key");
                *self.refusal.lock().unwrap() = Some(e.clone());
                Err(ClientError::Refused(e))
            }
        }
    }
}

/// Opens an authenticated connection, all within `settings.connect_timeout`.
pub(super) async fn connect(
    settings: &Arc<SshSettings>,
    target: &Target,
) -> Result<Handle<Client>, TransportError> {
    let refusal = Arc::new(Mutex::new(None));
    let attempt = connect_and_authenticate(settings, target, Arc::clone(&refusal));
    let result = match tokio::time::timeout(settings.connect_timeout, attempt).await {
        Ok(result) => result,
        Err(_) => Err(TransportError::Unreachable {
            host: settings.name.clone(),
            reason: format!(
                "no SSH session with {}:{} within {:?} (connect, handshake and auth)",
                target.host, target.port, settings.connect_timeout
            ),
        }),
    };
    // A host key refusal wins over whatever error the aborted handshake produced.
    match refusal.lock().unwrap().take() {
        Some(refused) => Err(refused),
        None => result,
    }
}

async fn connect_and_authenticate(
    settings: &Arc<SshSettings>,
    target: &Target,
    refusal: Arc<Mutex<Option<TransportError>>>,
) -> Result<Handle<Client>, TransportError> {
    let unreachable = |reason: String| TransportError::Unreachable {
        host: settings.name.clone(),
        reason,
    };
    let known = settings
        .host_keys
        .known_algorithms(&target.host, target.port);
    let config = client::Config {
        keepalive_interval: Some(settings.keepalive_interval),
        keepalive_max: settings.keepalive_max,
        nodelay: true,
        preferred: russh::Preferred {
            key: preferred_key_algorithms(&known),
            ..russh::Preferred::default()
        },
        ..client::Config::default()
    };
    let handler = Client {
        settings: Arc::clone(settings),
        target: target.clone(),
        refusal,
    };
    let mut handle = client::connect(
        Arc::new(config),
        (target.host.as_str(), target.port),
        handler,
    )
    .await
    .map_err(|e| match e {
        ClientError::Refused(e) => e,
        ClientError::Ssh(e) => unreachable(format!("{}:{}: {e}", target.host, target.port)),
    })?;

    // RSA keys need the server's preferred signature hash; asking costs a wait for the
    // server's extension info, so only RSA keys ask.
    let hash = if settings.key.algorithm().is_rsa() {
        handle
            .best_supported_rsa_hash()
            .await
            .map_err(|e| unreachable(format!("during authentication: {e}")))?
            .flatten()
    } else {
        None
    };
    let key = PrivateKeyWithHashAlg::new(Arc::clone(&settings.key), hash);
    match handle
        .authenticate_publickey(settings.user.clone(), key)
        .await
    {
        Ok(AuthResult::Success) => Ok(handle),
        Ok(AuthResult::Failure { .. }) => Err(TransportError::AuthFailed {
            host: settings.name.clone(),
            user: settings.user.clone(),
        }),
        Err(e) => Err(unreachable(format!("during authentication: {e}"))),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn target(host: &str, port: u16) -> Result<Target, String> {
        Ok(Target {
            host: host.into(),
            port,
        })
    }

    #[test]
    fn addresses_parse_like_openssh_writes_them() {
        assert_eq!(parse_address("box"), target("box", 22));
        assert_eq!(
            parse_address("box.example:2222"),
            target("box.example", 2222)
        );
        assert_eq!(parse_address("10.0.0.7:22"), target("10.0.0.7", 22));
        assert_eq!(parse_address("[::1]:2200"), target("::1", 2200));
        assert_eq!(parse_address("[fe80::1]"), target("fe80::1", 22));
        assert_eq!(parse_address("fe80::1"), target("fe80::1", 22));
        for bad in ["", ":22", "box:http", "[::1", "[::1]2200", "box:99999"] {
            assert!(parse_address(bad).is_err(), "{bad:?} should not parse");
        }
    }
}
