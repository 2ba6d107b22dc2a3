//! `switchboard hosts`: every configured host, whether it answers, and what each workspace under
//! its workdir takes on its disk (`runner::workspace_disk`), so an operator sees where the space
//! goes without the bot running — the web console's Hosts page shows the same from the bot.

use std::time::Duration;

use anyhow::Result;

use crate::agents::{self, Agent, Agents};
use crate::config::Config;
use crate::runner::health;
use crate::runner::hosts::{Host, Hosts};
use crate::runner::workspace_disk::{self, WorkspaceDisk};

/// One host as `switchboard hosts` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostDisks {
    pub name: String,
    pub workdir: String,
    /// How long it took to answer, or why it did not.
    pub answer: Result<Duration, String>,
    /// Its workspaces, largest first (none when it did not answer).
    pub workspaces: Vec<WorkspaceDisk>,
}

/// Every configured host, probed as `switchboard check` does, and its workspaces' disk use; the
/// hosts are asked at once.
pub async fn read(config: &Config) -> Result<Vec<HostDisks>> {
    let hosts = Hosts::from_config(config)?;
    let agents = Agents::new(&config.agents);
    let reads = hosts
        .iter()
        .map(|host| read_host(agents.get(config.host_agent(&host.name)), host));
    Ok(futures_util::future::join_all(reads).await)
}

async fn read_host(agent: &dyn Agent, host: &Host) -> HostDisks {
    let probe = agents::version_probe(agent, host.agent(agent.kind()));
    let health = health::probe(host, &probe.argv, &probe.env).await;
    let mut disks = HostDisks {
        name: host.name.clone(),
        workdir: host.workdir.clone(),
        answer: health
            .latency
            .ok_or_else(|| health.error.unwrap_or_else(|| "no answer".to_owned())),
        workspaces: Vec::new(),
    };
    if disks.answer.is_ok() {
        match workspace_disk::read(&*host.transport, &host.workdir).await {
            Ok(found) => disks.workspaces = found,
            Err(e) => disks.answer = Err(format!("reading its workspaces: {e}")),
        }
    }
    disks
}
