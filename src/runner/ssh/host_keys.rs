//! Deciding whether the key a server presents is the host we meant to reach (DESIGN invariant 6).
//!
//! Keys are compared by their key material only: a comment on a pinned `host_key` line never
//! makes an otherwise equal key "differ". A known_hosts file in which the host appears, but with
//! none of its keys equal to the presented one, is a mismatch even when the recorded keys use
//! another algorithm: trust-on-first-use only ever applies to a host the file does not mention.
//! To keep that strict rule from rejecting an honest server that merely prefers another key type,
//! the connection asks for the recorded key types first ([`HostKeyPolicy::known_algorithms`]).

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use russh::keys::known_hosts::{known_host_keys_path, learn_known_hosts_path};
use russh::keys::{Algorithm, HashAlg, PublicKey};

use crate::runner::transport::TransportError;

/// How the server's host key is checked. A key that does not pass is never accepted.
#[derive(Debug, Clone)]
pub enum HostKeyPolicy {
    /// Only these keys are accepted (config `host_key = "ssh-ed25519 AAAA…"`).
    Pinned(Vec<PublicKey>),
    /// Only keys with one of these SHA-256 fingerprints (`SHA256:…`, as printed by
    /// `ssh-keygen -lf`) are accepted.
    Fingerprints(Vec<String>),
    /// An OpenSSH known_hosts file (plain or hashed host names, `[host]:port` entries for ports
    /// other than 22). With `trust_on_first_use`, the key of a host the file does not mention
    /// is appended to it and accepted; a host it does mention must present a recorded key.
    KnownHosts {
        path: PathBuf,
        trust_on_first_use: bool,
    },
}

/// The SHA-256 fingerprint of `key` as `ssh-keygen -lf` prints it: `SHA256:<base64>`.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

impl HostKeyPolicy {
    /// Accepts `key` for `host`:`port` or says why not. `name` is the configured host name, used
    /// in errors. With trust-on-first-use this may append to the known_hosts file.
    pub(super) fn check(
        &self,
        name: &str,
        host: &str,
        port: u16,
        key: &PublicKey,
    ) -> Result<(), TransportError> {
        let mismatch = || TransportError::HostKeyMismatch {
            host: name.to_owned(),
            presented: fingerprint(key),
        };
        match self {
            HostKeyPolicy::Pinned(keys) => {
                if keys.iter().any(|k| k.key_data() == key.key_data()) {
                    Ok(())
                } else {
                    Err(mismatch())
                }
            }
            HostKeyPolicy::Fingerprints(prints) => {
                let presented = fingerprint(key);
                if prints.iter().any(|p| p.trim() == presented) {
                    Ok(())
                } else {
                    Err(mismatch())
                }
            }
            HostKeyPolicy::KnownHosts {
                path,
                trust_on_first_use,
            } => {
                let known = read_known(path, host, port)?;
                if known.iter().any(|k| k.key_data() == key.key_data()) {
                    Ok(())
                } else if known.is_empty() && *trust_on_first_use {
                    learn_known_hosts_path(host, port, key, path).map_err(|e| {
                        TransportError::Io(format!(
                            "cannot record the host key of {name} in {}: {e}",
                            path.display()
                        ))
                    })?;
                    tracing::warn!(
                        host = name,
                        fingerprint = %fingerprint(key),
                        file = %path.display(),
                        "trusting an unknown host key on first use"
                    );
                    Ok(())
                } else {
                    // Either a different key than the recorded one(s), or an unknown host
                    // without trust-on-first-use: both are refusals.
                    Err(mismatch())
                }
            }
        }
    }

    /// Key algorithms this policy already knows keys of for `host`:`port`, so the connection can
    /// ask for those first. Empty when it cannot tell (fingerprints, unknown host).
    pub(super) fn known_algorithms(&self, host: &str, port: u16) -> Vec<Algorithm> {
        match self {
            HostKeyPolicy::Pinned(keys) => keys.iter().map(PublicKey::algorithm).collect(),
            HostKeyPolicy::Fingerprints(_) => Vec::new(),
            HostKeyPolicy::KnownHosts { path, .. } => read_known(path, host, port)
                .map(|keys| keys.iter().map(PublicKey::algorithm).collect())
                .unwrap_or_default(),
        }
    }
}

fn read_known(path: &Path, host: &str, port: u16) -> Result<Vec<PublicKey>, TransportError> {
    // A missing file is "no entries" (russh returns an empty list), which TOFU then creates.
    known_host_keys_path(host, port, path)
        .map(|entries| entries.into_iter().map(|(_, key)| key).collect())
        .map_err(|e| {
            TransportError::Io(format!(
                "cannot read known_hosts file {}: {e}",
                path.display()
            ))
        })
}

/// The client's host-key algorithm preference: algorithms of `known` keys first (any RSA
/// signature hash counts for an RSA key), then russh's default order.
pub(super) fn preferred_key_algorithms(known: &[Algorithm]) -> Cow<'static, [Algorithm]> {
    let defaults = russh::Preferred::DEFAULT.key;
    if known.is_empty() {
        return defaults;
    }
    let matches = |candidate: &Algorithm| {
        known.iter().any(|k| match (k, candidate) {
            (Algorithm::Rsa { .. }, Algorithm::Rsa { .. }) => true,
            (k, c) => k == c,
        })
    };
    let (first, rest): (Vec<Algorithm>, Vec<Algorithm>) =
        defaults.iter().cloned().partition(|a| matches(a));
    Cow::Owned(first.into_iter().chain(rest).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED_A: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ";
    const ED_B: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA6rWI3G2sz07DnfFlrouTcysQlj2P+jpNSOEWD9OJ3X";

    fn key(line: &str) -> PublicKey {
        PublicKey::from_openssh(line).unwrap()
    }

    #[test]
    fn pinned_keys_compare_key_material_not_comments() {
        let policy = HostKeyPolicy::Pinned(vec![key(&format!("{ED_A} admin@laptop"))]);
        assert!(policy.check("h", "h", 22, &key(ED_A)).is_ok());
        let err = policy.check("h", "h", 22, &key(ED_B)).unwrap_err();
        assert_eq!(
            err,
            TransportError::HostKeyMismatch {
                host: "h".into(),
                presented: fingerprint(&key(ED_B))
            }
        );
    }

    #[test]
    fn known_hosts_mentioning_the_host_never_learns_another_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_hosts");
        std::fs::write(&path, format!("[h]:2222 {ED_A}\n")).unwrap();
        let policy = HostKeyPolicy::KnownHosts {
            path: path.clone(),
            trust_on_first_use: true,
        };
        assert!(policy.check("h", "h", 2222, &key(ED_A)).is_ok());
        assert!(matches!(
            policy.check("h", "h", 2222, &key(ED_B)),
            Err(TransportError::HostKeyMismatch { .. })
        ));
        // Same host on another port is another entry: learned on first use.
        assert!(policy.check("h", "h", 22, &key(ED_B)).is_ok());
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.contains(&format!("h {ED_B}")), "{text}");
    }

    #[test]
    fn known_algorithms_come_first() {
        let prefs = preferred_key_algorithms(&[Algorithm::Rsa { hash: None }]);
        assert!(matches!(prefs[0], Algorithm::Rsa { .. }));
        assert_eq!(prefs.len(), russh::Preferred::DEFAULT.key.len());
        assert_eq!(preferred_key_algorithms(&[]), russh::Preferred::DEFAULT.key);
    }
}
