//! One SSH connection: address parsing, the russh handler that checks the host key, and connect +
//! public-key auth under one deadline.

use std::sync::{Arc, Mutex};

use russh::client::{self, AuthResult, Handle};
use russh::keys::{PrivateKeyWithHashAlg, PublicKeyOrCertificate};

use crate::runner::ssh::SshSettings;
use crate::runner::ssh::host_keys::{fingerprint, preferred_key_algorithms};
use crate::runner::transport::TransportError;

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
