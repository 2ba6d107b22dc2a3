//! The configured workspace hosts, each with its transport and its limit of concurrent turns.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context, Result};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::local::LocalTransport;
use super::ssh::{HostKeyPolicy, SshSettings, SshTransport};
use super::transport::Transport;
use crate::config::{Config, HostAgentConfig, HostConfig, expand_home};
use crate::domain::agent::AgentKind;

/// One workspace host.
pub struct Host {
    pub name: String,
    pub transport: Arc<dyn Transport>,
    pub workdir: String,
    pub state_dir: String,
    pub max_turns: u32,
    /// The X display `/screenshot` captures, if the host has one.
    pub display: Option<String>,
    /// The browser command `/screenshot URL` runs.
    pub browser: Vec<String>,
    /// The longest a capture may take here.
    pub capture_timeout: std::time::Duration,
    slots: Arc<Semaphore>,
    /// Slots taken at start-up for the turns that were under way when the bot stopped, handed
    /// to them as they are picked up again: a queued turn must not take their place (it would
    /// run beside them, over the limit, and its changes would show in theirs).
    held: Mutex<Vec<OwnedSemaphorePermit>>,
    agents: BTreeMap<AgentKind, HostAgentConfig>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Host {
    pub fn new(name: &str, transport: Arc<dyn Transport>, config: &HostConfig) -> Host {
        Host {
            name: name.to_owned(),
            transport,
            workdir: config.workdir.clone(),
            state_dir: config.state_dir.clone(),
            max_turns: config.max_concurrent_turns,
            display: config.display.clone(),
            browser: config.browser.clone(),
            capture_timeout: config.capture_timeout,
            slots: Arc::new(Semaphore::new(config.max_concurrent_turns as usize)),
            held: Mutex::new(Vec::new()),
            agents: config.agents.clone(),
        }
    }

    /// A turn slot if one is free now.
    pub fn try_slot(&self) -> Option<OwnedSemaphorePermit> {
        self.slots.clone().try_acquire_owned().ok()
    }

    /// Takes up to `count` free slots for turns under way, before any queued turn can (see
    /// [`Self::held_slot`]).
    pub fn hold_for_turns_under_way(&self, count: usize) {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.extend((0..count).map_while(|_| self.try_slot()));
    }

    /// One of the slots held for turns under way, for a turn that was under way.
    pub fn held_slot(&self) -> Option<OwnedSemaphorePermit> {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    /// Waits for a turn slot.
    pub async fn slot(&self) -> OwnedSemaphorePermit {
        self.slots
            .clone()
            .acquire_owned()
            .await
            .expect("host slot semaphores are never closed")
    }

    /// Turns running now.
    pub fn running(&self) -> u32 {
        self.max_turns - self.slots.available_permits() as u32
    }

    /// This host's overrides for an agent.
    pub fn agent(&self, kind: AgentKind) -> Option<&HostAgentConfig> {
        self.agents.get(&kind)
    }
}

/// All hosts by name.
#[derive(Debug, Clone, Default)]
pub struct Hosts(BTreeMap<String, Arc<Host>>);

impl Hosts {
    /// Builds every host of a validated config. SSH keys are read now, so a missing key file is
    /// a start-up error, not a surprise at the first prompt.
    pub fn from_config(config: &Config) -> Result<Hosts> {
        let mut hosts = BTreeMap::new();
        for (name, host) in &config.hosts {
            let transport: Arc<dyn Transport> = match &host.address {
                None => Arc::new(LocalTransport::new(name)),
                Some(_) => Arc::new(SshTransport::new(ssh_settings(name, host)?)),
            };
            hosts.insert(name.clone(), Arc::new(Host::new(name, transport, host)));
        }
        Ok(Hosts(hosts))
    }

    pub fn get(&self, name: &str) -> Option<Arc<Host>> {
        self.0.get(name).cloned()
    }

    pub fn names(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Host>> {
        self.0.values()
    }
}

/// SSH settings of a configured SSH host.
pub fn ssh_settings(name: &str, host: &HostConfig) -> Result<SshSettings> {
    let address = host
        .address
        .clone()
        .context("an SSH host needs an address")?;
    let key_file = expand_home(
        host.key_file
            .as_deref()
            .context("an SSH host needs key_file")?,
    );
    let key = russh::keys::load_secret_key(&key_file, None)
        .with_context(|| format!("hosts.{name}.key_file: cannot load {}", key_file.display()))?;
    let host_keys = if let Some(line) = &host.host_key {
        let key = russh::keys::PublicKey::from_openssh(line.trim()).with_context(|| {
            format!(
                "hosts.{name}.host_key is not an OpenSSH public key line (\"ssh-ed25519 AAAA…\")"
            )
        })?;
        HostKeyPolicy::Pinned(vec![key])
    } else if let Some(fp) = &host.host_key_fingerprint {
        HostKeyPolicy::Fingerprints(vec![fp.trim().to_owned()])
    } else if let Some(path) = &host.known_hosts {
        HostKeyPolicy::KnownHosts {
            path: expand_home(path),
            trust_on_first_use: host.trust_on_first_use,
        }
    } else {
        anyhow::bail!("hosts.{name}: no pinned host key");
    };
    Ok(SshSettings {
        name: name.to_owned(),
        address,
        user: host.user.clone().context("an SSH host needs a user")?,
        key: Arc::new(key),
        host_keys,
        connect_timeout: host.connect_timeout,
        keepalive_interval: host.keepalive_interval,
        keepalive_max: 3,
        max_channels_per_connection: host.max_channels_per_connection as usize,
    })
}
