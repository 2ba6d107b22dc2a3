//! The `[web]` section: the embedded web console on `http.listen`.
//!
//! Who may sign in: the admin, whose token is printed once at first start (or given as
//! `SWITCHBOARD_WEB_TOKEN` / `web.admin_token_file`), and the people listed in `web.users`, each
//! by the SHA-256 of their token — the config file holds no usable secret
//! (`switchboard web-token NAME` makes a token and its line).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use serde::Deserialize;

use super::{Env, Secret, duration, read_secret_file};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    /// Serve the console. Default true.
    #[serde(default = "default_enabled")]
    pub enabled: bool,
    /// A file holding the admin's sign-in token. Default: `SWITCHBOARD_WEB_TOKEN`, else the
    /// token generated and printed at first start.
    #[serde(default)]
    pub admin_token_file: Option<PathBuf>,
    /// More people who may sign in.
    #[serde(default)]
    pub users: Vec<WebUser>,
    /// How long a sign-in lasts. Default `7d`.
    #[serde(default = "default_session_ttl", with = "duration")]
    pub session_ttl: Duration,
    /// Mark the session cookie `Secure`: set it when the console is served over HTTPS (behind
    /// a reverse proxy). Default false (plain HTTP on loopback).
    #[serde(default)]
    pub secure_cookie: bool,
}

/// One person who may sign in.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WebUser {
    /// Shown in the console and recorded as the author of their prompts.
    pub name: String,
    /// The SHA-256 of their token, in hex.
    pub token_sha256: String,
    /// May see and act on every session, not only their own. Default false.
    #[serde(default)]
    pub admin: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            enabled: default_enabled(),
            admin_token_file: None,
            users: Vec::new(),
            session_ttl: default_session_ttl(),
            secure_cookie: false,
        }
    }
}

fn default_enabled() -> bool {
    true
}

fn default_session_ttl() -> Duration {
    Duration::from_secs(7 * 24 * 3600)
}

/// The name the admin signs in as.
pub const ADMIN: &str = "admin";

impl WebConfig {
    pub(super) fn validate(&self) -> Result<()> {
        for (i, user) in self.users.iter().enumerate() {
            let valid_name = !user.name.is_empty()
                && user.name.len() <= 64
                && user
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !valid_name {
                bail!(
                    "web.users[{i}].name {:?} may only use letters, digits, '-', '_' and '.'",
                    user.name
                );
            }
            if user.name == ADMIN {
                bail!("web.users[{i}]: the name \"{ADMIN}\" is the printed token's");
            }
            let hex = user.token_sha256.len() == 64
                && user.token_sha256.chars().all(|c| c.is_ascii_hexdigit());
            if !hex {
                bail!(
                    "web.users[{i}].token_sha256 must be 64 hex digits (`switchboard web-token \
                     {}` prints one)",
                    user.name
                );
            }
            if self.users[..i].iter().any(|u| u.name == user.name) {
                bail!("web.users: {:?} is listed twice", user.name);
            }
        }
        if self.session_ttl < Duration::from_secs(60) {
            bail!("web.session_ttl must be at least a minute");
        }
        Ok(())
    }

    pub(super) fn resolve_admin_token(&self, env: &Env) -> Result<Option<Secret>> {
        let token = match &self.admin_token_file {
            Some(path) => Some(read_secret_file(path, "web.admin_token_file")?),
            None => env.get("SWITCHBOARD_WEB_TOKEN").map(Secret::new),
        };
        if let Some(token) = &token
            && token.expose().len() < 16
        {
            bail!("the web admin token must be at least 16 characters");
        }
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, hash: &str) -> WebUser {
        WebUser {
            name: name.into(),
            token_sha256: hash.into(),
            admin: false,
        }
    }

    #[test]
    fn users_need_safe_names_and_real_hashes() {
        let hash = "a".repeat(64);
        let ok = WebConfig {
            users: vec![user("bob", &hash), user("carol.c", &hash)],
            ..WebConfig::default()
        };
        ok.validate().unwrap();
        for (bad, needle) in [
            (vec![user("bo b", &hash)], "may only use"),
            (vec![user("admin", &hash)], "printed token"),
            (vec![user("bob", "abc")], "64 hex digits"),
            (vec![user("bob", &"g".repeat(64))], "64 hex digits"),
            (vec![user("bob", &hash), user("bob", &hash)], "twice"),
        ] {
            let config = WebConfig {
                users: bad,
                ..WebConfig::default()
            };
            let error = config.validate().unwrap_err().to_string();
            assert!(error.contains(needle), "{error}");
        }
    }

    #[test]
    fn a_short_admin_token_is_refused() {
        let env = Env::from_pairs([("SWITCHBOARD_WEB_TOKEN", "short")]);
        let error = WebConfig::default()
            .resolve_admin_token(&env)
            .unwrap_err()
            .to_string();
        assert!(error.contains("at least 16"), "{error}");
        let env = Env::from_pairs([("SWITCHBOARD_WEB_TOKEN", "a-long-enough-token")]);
        assert!(
            WebConfig::default()
                .resolve_admin_token(&env)
                .unwrap()
                .is_some()
        );
    }
}
