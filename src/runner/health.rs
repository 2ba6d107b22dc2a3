//! A host's health as `/status` and `check` report it: reachable, load, memory, free disk of the
//! workspace, agent CLI version — gathered with one exec so it costs one round trip.

use std::time::{Duration, Instant};

use super::agent_env::{self, AgentEnv};
use super::hosts::Host;
use super::shell::{self, quote, quote_path};

/// How long a health probe may take before the host counts as unreachable.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(8);

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Health {
    /// Round trip of the probe; `None` when the host could not be reached.
    pub latency: Option<Duration>,
    pub error: Option<String>,
    /// The 1, 5 and 15 minute load averages.
    pub load: Option<String>,
    pub mem_total_kb: Option<u64>,
    pub mem_available_kb: Option<u64>,
    pub disk_free_kb: Option<u64>,
    /// First line of `<agent> --version`; `None` when the command is missing.
    pub agent_version: Option<String>,
    /// Tools the turn protocol needs that the host lacks (`setsid -f`, GNU `tail --pid`).
    pub missing_tools: Vec<String>,
}

/// The probe; the agent's variables come on its stdin (see [`agent_env`]), read by the clean
/// shell that asks the agent for its version.
fn probe_script(workdir: &str, version: &[String]) -> String {
    let program = version.first().map(String::as_str).unwrap_or("");
    format!(
        r#"echo "load $(cut -d ' ' -f 1-3 /proc/loadavg 2> /dev/null)"
awk '/^MemTotal:/ {{ print "memtotal", $2 }} /^MemAvailable:/ {{ print "memavail", $2 }}' /proc/meminfo 2> /dev/null
w={workdir}
mkdir -p "$w" 2> /dev/null
echo "disk $(df -Pk "$w" 2> /dev/null | awk 'NR == 2 {{ print $4 }}')"
if command -v {program} > /dev/null 2>&1; then echo "agent $({clean_env} sh -c {version_script} sb-probe {version} 2>&1 | head -n 1)"; fi
setsid --help 2>&1 | grep -q -- --fork || echo "missing setsid-f"
tail --help 2>&1 | grep -q -- --pid || echo "missing tail--pid""#,
        workdir = quote_path(workdir),
        program = quote(program),
        clean_env = agent_env::clean_env(),
        version_script = quote(&format!(
            "{}\nexec \"$@\" < /dev/null",
            agent_env::EXPORT_STDIN
        )),
        version = shell::join(version),
    )
}

/// Probes a host. Never fails: an unreachable host is a [`Health`] with an error.
pub async fn probe(host: &Host, version: &[String], env: &[(String, String)]) -> Health {
    let script = probe_script(&host.workdir, version);
    let env = AgentEnv::new(env);
    let started = Instant::now();
    let exec = host.transport.exec(&script, env.as_bytes());
    let out = match tokio::time::timeout(PROBE_TIMEOUT, exec).await {
        Err(_) => {
            return Health {
                error: Some(format!("no answer within {}s", PROBE_TIMEOUT.as_secs())),
                ..Health::default()
            };
        }
        Ok(Err(e)) => {
            return Health {
                error: Some(e.to_string()),
                ..Health::default()
            };
        }
        Ok(Ok(out)) => out,
    };
    let mut health = Health {
        latency: Some(started.elapsed()),
        ..Health::default()
    };
    for line in out.stdout_text().lines() {
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match key {
            "load" => health.load = Some(value.to_owned()),
            "memtotal" => health.mem_total_kb = value.parse().ok(),
            "memavail" => health.mem_available_kb = value.parse().ok(),
            "disk" => health.disk_free_kb = value.parse().ok(),
            "agent" => health.agent_version = Some(value.to_owned()),
            "missing" => health.missing_tools.push(match value {
                "setsid-f" => "setsid with --fork (util-linux)".to_owned(),
                _ => "tail with --pid (GNU coreutils)".to_owned(),
            }),
            _ => {}
        }
    }
    health
}
