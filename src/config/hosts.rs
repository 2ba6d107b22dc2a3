//! The `[hosts.NAME]` sections: where the agent works.
//!
//! A host with an `address` is reached over SSH, and then needs a user, a key and exactly one
//! pin of the server's host key (a key, its fingerprint, or a known_hosts file): Switchboard
//! never connects to a server it cannot tell from an impostor. A host without an address runs
//! commands on this machine; `local` is such a host and always exists, even when not listed.
//! Each host has its own turn limit, SSH pool size and capture settings (the X display and
//! browser `/screenshot` uses).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use serde::Deserialize;

use super::agents::HostAgentConfig;
use super::duration;
use crate::domain::agent::AgentKind;

/// Name of the host that always exists and runs agents on this machine.
pub const LOCAL_HOST: &str = "local";

/// One workspace host. With `address` it is reached over SSH; without, commands run locally.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    /// `hostname[:port]` of the SSH server. Default: none (a local host).
    #[serde(default)]
    pub address: Option<String>,
    /// SSH login user. Required for SSH hosts.
    #[serde(default)]
    pub user: Option<String>,
    /// Private key file (OpenSSH format). Required for SSH hosts; `~/` is expanded.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// The pinned host public key, as `ssh-keyscan` prints it: `ssh-ed25519 AAAA…`.
    #[serde(default)]
    pub host_key: Option<String>,
    /// The pinned host key's fingerprint, as `ssh-keygen -lf` prints it: `SHA256:…`.
    #[serde(default)]
    pub host_key_fingerprint: Option<String>,
    /// An OpenSSH known_hosts file holding the host's key.
    #[serde(default)]
    pub known_hosts: Option<PathBuf>,
    /// With `known_hosts`: record an unknown host's key on first connection. Default false.
    #[serde(default)]
    pub trust_on_first_use: bool,
    /// Working directory of the agent on the host. Default `~/switchboard`.
    #[serde(default = "default_workdir")]
    pub workdir: String,
    /// Where turn files live on the host. Default `~/.switchboard`.
    #[serde(default = "default_state_dir")]
    pub state_dir: String,
    /// Turns running at once on this host; more wait their turn. Default 4.
    #[serde(default = "default_max_concurrent_turns")]
    pub max_concurrent_turns: u32,
    /// SSH channels per connection before another connection is opened (OpenSSH allows 10 by
    /// default). Default 8.
    #[serde(default = "default_max_channels")]
    pub max_channels_per_connection: u32,
    /// SSH connect and handshake timeout. Default `10s`.
    #[serde(default = "default_connect_timeout", with = "duration")]
    pub connect_timeout: Duration,
    /// SSH keepalive interval; three missed replies close the connection. Default `15s`.
    #[serde(default = "default_keepalive_interval", with = "duration")]
    pub keepalive_interval: Duration,
    /// The X display `/screenshot` captures (an Xvfb the host runs, e.g. `:99`). Default: none,
    /// and `/screenshot` without a URL says how to set one up.
    #[serde(default)]
    pub display: Option<String>,
    /// The browser `/screenshot URL` runs on the host, as a command and its own arguments.
    /// Default `["chromium"]`.
    #[serde(default = "default_browser")]
    pub browser: Vec<String>,
    /// The longest a screenshot or an SVG rendering may take on this host. Default `45s`.
    #[serde(default = "default_capture_timeout", with = "duration")]
    pub capture_timeout: Duration,
    /// The agent of new sessions on this host, unless their project names one. Default:
    /// `defaults.agent`.
    #[serde(default)]
    pub agent: Option<AgentKind>,
    /// Per-agent overrides on this host (`[hosts.NAME.agents.claude]`, `.codex`, `.opencode`).
    #[serde(default)]
    pub agents: BTreeMap<AgentKind, HostAgentConfig>,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            address: None,
            user: None,
            key_file: None,
            host_key: None,
            host_key_fingerprint: None,
            known_hosts: None,
            trust_on_first_use: false,
            workdir: default_workdir(),
            state_dir: default_state_dir(),
            max_concurrent_turns: default_max_concurrent_turns(),
            max_channels_per_connection: default_max_channels(),
            connect_timeout: default_connect_timeout(),
            keepalive_interval: default_keepalive_interval(),
            display: None,
            browser: default_browser(),
            capture_timeout: default_capture_timeout(),
            agent: None,
            agents: BTreeMap::new(),
        }
    }
}

fn default_workdir() -> String {
    "~/switchboard".to_owned()
}

fn default_state_dir() -> String {
    "~/.switchboard".to_owned()
}

/// The longest a capture may take by default, from connecting to the last byte.
pub const DEFAULT_CAPTURE_TIMEOUT: Duration = Duration::from_secs(45);

fn default_capture_timeout() -> Duration {
    DEFAULT_CAPTURE_TIMEOUT
}

fn default_browser() -> Vec<String> {
    vec!["chromium".to_owned()]
}

fn default_max_concurrent_turns() -> u32 {
    4
}

fn default_max_channels() -> u32 {
    8
}

fn default_connect_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_keepalive_interval() -> Duration {
    Duration::from_secs(15)
}

impl HostConfig {
    /// The rules of one host, each failing with a message that says what to change.
    pub(super) fn validate(&self, name: &str) -> Result<()> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        {
            bail!("host name {name:?} may only use letters, digits, '-', '_' and '.'");
        }
        if self.max_concurrent_turns == 0 {
            bail!("hosts.{name}.max_concurrent_turns must be at least 1");
        }
        if self.max_channels_per_connection == 0 {
            bail!("hosts.{name}.max_channels_per_connection must be at least 1");
        }
        if self.workdir.trim().is_empty() || self.state_dir.trim().is_empty() {
            bail!("hosts.{name}.workdir and state_dir must not be empty");
        }
        if self.browser.first().is_none_or(|b| b.trim().is_empty()) {
            bail!("hosts.{name}.browser must name a command, e.g. [\"chromium\"]");
        }
        if let Some(display) = &self.display
            && !display.contains(':')
        {
            bail!("hosts.{name}.display {display:?} is not an X display name such as \":99\"");
        }
        for (agent, settings) in &self.agents {
            settings.validate(name, *agent)?;
        }
        let Some(address) = &self.address else {
            let ssh_only = [
                ("user", self.user.is_some()),
                ("key_file", self.key_file.is_some()),
                ("host_key", self.host_key.is_some()),
                ("host_key_fingerprint", self.host_key_fingerprint.is_some()),
                ("known_hosts", self.known_hosts.is_some()),
            ];
            if let Some((key, _)) = ssh_only.iter().find(|(_, set)| *set) {
                bail!(
                    "hosts.{name}.{key} is set but hosts.{name}.address is not; set the address for an SSH host"
                );
            }
            return Ok(());
        };
        if address.trim().is_empty() {
            bail!("hosts.{name}.address must not be empty");
        }
        if self.user.is_none() {
            bail!("hosts.{name}.user is required for an SSH host");
        }
        if self.key_file.is_none() {
            bail!(
                "hosts.{name}.key_file is required for an SSH host (a private key in OpenSSH format)"
            );
        }
        let pins = [
            self.host_key.is_some(),
            self.host_key_fingerprint.is_some(),
            self.known_hosts.is_some(),
        ]
        .iter()
        .filter(|set| **set)
        .count();
        if pins == 0 {
            bail!(
                "hosts.{name}: pin the host key with host_key = \"ssh-ed25519 AAAA…\" (from \
                 `ssh-keyscan -t ed25519 HOST`), host_key_fingerprint = \"SHA256:…\", or known_hosts = \
                 \"~/.ssh/known_hosts\""
            );
        }
        if pins > 1 {
            bail!("hosts.{name}: set only one of host_key, host_key_fingerprint, known_hosts");
        }
        if self.trust_on_first_use && self.known_hosts.is_none() {
            bail!(
                "hosts.{name}.trust_on_first_use needs known_hosts (where the learned key is kept)"
            );
        }
        if let Some(fp) = &self.host_key_fingerprint
            && !fp.starts_with("SHA256:")
        {
            bail!("hosts.{name}.host_key_fingerprint must look like \"SHA256:…\" (ssh-keygen -lf)");
        }
        Ok(())
    }
}
