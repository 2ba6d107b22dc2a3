//! `switchboard check`: validates the configuration and tries every dependency, printing one
//! line per check with what to fix. Exits non-zero when anything failed.

pub mod hosts;

use std::fmt::Write as _;

use crate::agents::{self, Agent, Agents};
use crate::bots::telegram;
use crate::config::{Config, HostConfig, Secrets};
use crate::runner::health;
use crate::runner::hosts::Hosts;
use crate::store::Store;
use crate::store::connect::DatabaseError;

/// One check's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ok(String),
    /// Works, but is a risk the operator should know about (the command still succeeds).
    Warning {
        problem: String,
        fix: String,
    },
    Failed {
        problem: String,
        fix: String,
    },
    Skipped(String),
}

/// A named check and its verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckLine {
    pub name: String,
    pub verdict: Verdict,
}

impl CheckLine {
    fn ok(name: impl Into<String>, detail: impl Into<String>) -> CheckLine {
        CheckLine {
            name: name.into(),
            verdict: Verdict::Ok(detail.into()),
        }
    }

    fn failed(
        name: impl Into<String>,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> CheckLine {
        CheckLine {
            name: name.into(),
            verdict: Verdict::Failed {
                problem: problem.into(),
                fix: fix.into(),
            },
        }
    }

    /// `✓ name: detail`, `⚠ name: risk — fix: …`, `✗ name: problem — fix: …`,
    /// `- name: skipped because …`.
    pub fn render(&self) -> String {
        match &self.verdict {
            Verdict::Ok(detail) => format!("✓ {}: {detail}", self.name),
            Verdict::Warning { problem, fix } => format!("⚠ {}: {problem} — fix: {fix}", self.name),
            Verdict::Failed { problem, fix } => format!("✗ {}: {problem} — fix: {fix}", self.name),
            Verdict::Skipped(why) => format!("- {}: {why}", self.name),
        }
    }

    pub fn failed_check(&self) -> bool {
        matches!(self.verdict, Verdict::Failed { .. })
    }
}

/// Runs every check of a loaded, validated configuration.
pub async fn run(config: &Config, secrets: &Secrets) -> Vec<CheckLine> {
    let mut lines = vec![CheckLine::ok(
        "config",
        format!("valid; hosts: {}", config.host_names().join(", ")),
    )];
    lines.push(projects(config));
    lines.push(match Store::connect(&config.database.url, 1).await {
        Ok(store) => {
            store.close().await;
            CheckLine::ok("database", backend_name(&config.database.url))
        }
        Err(e) => match e.downcast_ref::<DatabaseError>() {
            Some(DatabaseError { problem, fix }) => CheckLine::failed("database", problem, fix),
            None => CheckLine::failed(
                "database",
                causes(&e),
                "check database.url (or SWITCHBOARD_DATABASE_URL)",
            ),
        },
    });
    match Hosts::from_config(config) {
        Ok(hosts) => {
            let agents = Agents::new(&config.agents);
            for host in hosts.iter() {
                let settings = &config.hosts[&host.name];
                let agent = agents.get(config.host_agent(&host.name));
                let mut line = check_host(agent, host, settings).await;
                // The implicit `local` host only matters once someone moves a thread to it.
                let unused_local = host.name == crate::config::LOCAL_HOST
                    && config.local_is_implicit
                    && config.defaults.host != host.name;
                if unused_local && let Verdict::Failed { problem, .. } = &line.verdict {
                    line.verdict = Verdict::Skipped(format!(
                        "not usable ({problem}); fine unless someone sends /new local"
                    ));
                }
                lines.push(line);
            }
            lines.extend(local_agents_with_github(config));
        }
        Err(e) => lines.push(CheckLine::failed(
            "hosts",
            causes(&e),
            "fix the host settings named above",
        )),
    }
    lines.push(agent_permissions(config));
    lines.push(check_telegram(config, secrets).await);
    lines.push(check_github(config, secrets).await);
    lines.push(check_slack(config, secrets).await);
    lines.push(check_discord(config, secrets).await);
    lines.push(check_web(config, secrets));
    lines
}

/// The configured projects: each one's name, repository and hosts (config validation already
/// checked them; reaching the repositories is the workspaces' job).
fn projects(config: &Config) -> CheckLine {
    let projects = config.projects();
    if projects.is_empty() {
        return CheckLine {
            name: "projects".into(),
            verdict: Verdict::Skipped("none configured (add [projects.NAME] to list one)".into()),
        };
    }
    let listed: Vec<String> = projects
        .iter()
        .map(|p| format!("{} ({} on {})", p.name, p.repo, p.hosts.join(", ")))
        .collect();
    CheckLine::ok("projects", listed.join("; "))
}

/// Where the web console is and how its admin signs in (nothing to reach: it is this binary).
fn check_web(config: &Config, secrets: &Secrets) -> CheckLine {
    if !config.web.enabled {
        return CheckLine {
            name: "web".into(),
            verdict: Verdict::Skipped("off (web.enabled = false)".into()),
        };
    }
    let admin = if secrets.web_admin_token.is_some() {
        "the configured admin token"
    } else {
        "the admin link printed at first start"
    };
    CheckLine::ok(
        "web",
        format!(
            "console on http://{}/; sign in with {admin} and {} more user(s)",
            config.http.listen,
            config.web.users.len()
        ),
    )
}

async fn check_discord(config: &Config, secrets: &Secrets) -> CheckLine {
    let Some(token) = &secrets.discord.bot_token else {
        return CheckLine {
            name: "discord".into(),
            verdict: Verdict::Skipped("not configured (set DISCORD_BOT_TOKEN to enable it)".into()),
        };
    };
    match crate::bots::discord::identify(&config.discord, token).await {
        Ok(bot) => CheckLine::ok(
            "discord",
            format!("bot {bot} at {}", config.discord.api_url),
        ),
        Err(e) => CheckLine::failed(
            "discord",
            causes(&e),
            "check DISCORD_BOT_TOKEN (Developer Portal → Bot → Reset Token) and discord.api_url",
        ),
    }
}

async fn check_slack(config: &Config, secrets: &Secrets) -> CheckLine {
    let Some(token) = &secrets.slack.bot_token else {
        return CheckLine {
            name: "slack".into(),
            verdict: Verdict::Skipped("not configured (set SLACK_BOT_TOKEN to enable it)".into()),
        };
    };
    match crate::bots::slack::identify(&config.slack, token).await {
        Ok(bot) => CheckLine::ok("slack", format!("bot {bot} at {}", config.slack.api_url)),
        Err(e) => CheckLine::failed(
            "slack",
            causes(&e),
            "check SLACK_BOT_TOKEN (the Bot User OAuth Token, xoxb-…) and slack.api_url",
        ),
    }
}

async fn check_github(config: &Config, secrets: &Secrets) -> CheckLine {
    let (Some(app_id), Some(key)) = (config.github.app_id, &secrets.github_private_key) else {
        return CheckLine {
            name: "github".into(),
            verdict: Verdict::Skipped("not configured (set github.app_id to enable it)".into()),
        };
    };
    match crate::bots::github::identify(&config.github, app_id, key).await {
        Ok(bot) => CheckLine::ok("github", format!("App {bot} at {}", config.github.api_url)),
        Err(e) => CheckLine::failed(
            "github",
            causes(&e),
            "check github.app_id, the private key and github.api_url",
        ),
    }
}

/// An error and its causes, `: `-separated, each said once: HTTP clients wrap an error in one
/// that repeats its message ("A network error: error sending request" over "error sending
/// request"), which `{:#}` would print twice.
fn causes(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain().map(ToString::to_string) {
        if text.ends_with(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text
}

fn backend_name(url: &str) -> String {
    match url.split_once(':') {
        Some(("sqlite", _)) => "SQLite reachable".to_owned(),
        _ => "Postgres reachable".to_owned(),
    }
}

/// Said of every working local host: what its agents can reach.
const LOCAL_AGENT_NOTE: &str = "; agents here run as the bot's user and can read what it can \
     (its token files, its database): for more than a personal install use an SSH host or a \
     separate user";

/// GitHub turns run what strangers wrote (issue text) through the agent; on a `local` host the
/// agent is the bot's own user and can read the bot's secrets.
fn local_agents_with_github(config: &Config) -> Option<CheckLine> {
    config.github.app_id?;
    let host = config.github.host.as_ref().unwrap_or(&config.defaults.host);
    if config.hosts.get(host)?.address.is_some() {
        return None;
    }
    Some(CheckLine {
        name: "github".into(),
        verdict: Verdict::Warning {
            problem: format!(
                "GitHub turns run on {host}, a local host: the agent runs as the bot's own user \
                 and can read what it can (the token files, the database), and text in an issue \
                 can ask it to"
            ),
            fix: "set github.host to an SSH host (or run the bot as another user than the agent's)"
                .into(),
        },
    })
}

/// What the default agent may do without asking, so nobody is surprised by a denied edit or an
/// unasked command.
fn agent_permissions(config: &Config) -> CheckLine {
    let agents = Agents::new(&config.agents);
    let agent = agents.get(config.defaults.agent);
    let (mode, allows) = agent.permissions();
    CheckLine::ok(
        "agent",
        format!(
            "{kind}, permission mode {mode}: {allows} (agents.{kind}.permission_mode sets another)",
            kind = agent.kind(),
            mode = mode.as_str()
        ),
    )
}

/// What to do when the host's key changed, in terms of the pin that was configured.
fn repin_fix(settings: &HostConfig) -> &'static str {
    if settings.host_key_fingerprint.is_some() {
        "if the host was reinstalled, pin its new fingerprint (ssh-keyscan HOST | ssh-keygen -lf -) in hosts.NAME.host_key_fingerprint; otherwise investigate before connecting"
    } else if settings.known_hosts.is_some() {
        "if the host was reinstalled, replace its line in the file hosts.NAME.known_hosts names (ssh-keygen -R HOST, then ssh-keyscan HOST); otherwise investigate before connecting"
    } else {
        "if the host was reinstalled, pin its new key (ssh-keyscan HOST) in hosts.NAME.host_key; otherwise investigate before connecting"
    }
}

async fn check_host(
    agent: &dyn Agent,
    host: &crate::runner::hosts::Host,
    settings: &HostConfig,
) -> CheckLine {
    let name = format!("host {}", host.name);
    let host_agent = host.agent(agent.kind());
    let probe = agents::version_probe(agent, host_agent);
    let h = health::probe(host, &probe.argv, &probe.env).await;
    let Some(latency) = h.latency else {
        let problem = h.error.unwrap_or_else(|| "no answer".to_owned());
        let fix = if problem.contains("host key mismatch") {
            repin_fix(settings)
        } else if problem.contains("authentication") {
            "add the public half of hosts.NAME.key_file to ~/.ssh/authorized_keys of hosts.NAME.user on the host"
        } else {
            "check hosts.NAME.address, that sshd runs there and that this machine can reach it"
        };
        return CheckLine::failed(name, problem, fix.replace("NAME", &host.name));
    };
    if !h.missing_tools.is_empty() {
        return CheckLine::failed(
            name,
            format!("missing on the host: {}", h.missing_tools.join(", ")),
            "install GNU coreutils and util-linux (deploy/host-setup.sh does)",
        );
    }
    let Some(agent) = h.agent_version else {
        return CheckLine::failed(
            name,
            format!("`{}` was not found", agent.command(host_agent)),
            format!(
                "install it there (deploy/host-setup.sh), or set hosts.{}.agents.{}.command to its full path",
                host.name,
                agent.kind()
            ),
        );
    };
    let mut detail = format!("reachable in {} ms, agent {agent}", latency.as_millis());
    if let Some(free) = h.disk_free_kb {
        let _ = write!(
            detail,
            ", {:.1} GiB free in {}",
            free as f64 / 1048576.0,
            host.workdir
        );
    }
    if settings.address.is_none() {
        detail.push_str(LOCAL_AGENT_NOTE);
    }
    CheckLine::ok(name, detail)
}

async fn check_telegram(config: &Config, secrets: &Secrets) -> CheckLine {
    let Some(token) = &secrets.telegram_token else {
        return CheckLine {
            name: "telegram".into(),
            verdict: Verdict::Skipped(
                "not configured (set TELEGRAM_BOT_TOKEN to enable it)".into(),
            ),
        };
    };
    let bot = match telegram::client(&config.telegram, token) {
        Ok(bot) => bot,
        Err(e) => return CheckLine::failed("telegram", causes(&e), "fix telegram.api_url"),
    };
    match telegram::identify(&bot).await {
        Ok(me) => CheckLine::ok(
            "telegram",
            format!("bot @{} at {}", me.username, config.telegram.api_url),
        ),
        Err(e) => CheckLine::failed(
            "telegram",
            causes(&e),
            "check TELEGRAM_BOT_TOKEN (from BotFather) and that telegram.api_url is reachable",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line speaks of the default agent, in its own terms.
    #[test]
    fn the_permission_line_is_the_default_agents() {
        let line = |text: &str| agent_permissions(&Config::parse(text).unwrap()).render();
        assert!(
            line("").starts_with("✓ agent: claude, permission mode acceptEdits: the agent edits"),
            "{}",
            line("")
        );
        let codex =
            line("[defaults]\nagent = \"codex\"\n[agents.codex]\npermission_mode = \"plan\"\n");
        assert!(
            codex.contains("codex, permission mode plan: the agent reads (sandbox read-only)")
                && codex.contains("agents.codex.permission_mode sets another"),
            "{codex}"
        );
    }

    #[test]
    fn projects_are_listed_with_their_repositories_and_hosts() {
        let mut config = Config::parse(
            "[hosts.devbox]\n[projects.web]\nrepo = \"https://git.example.com/web.git\"\n\
             hosts = [\"devbox\", \"local\"]\n[projects.api]\nrepo = \"https://x/api\"\n",
        )
        .unwrap();
        assert_eq!(
            projects(&config).render(),
            "✓ projects: api (https://x/api on local); web (https://git.example.com/web.git on \
             devbox, local)"
        );
        config.projects.clear();
        assert_eq!(
            projects(&config).render(),
            "- projects: none configured (add [projects.NAME] to list one)"
        );
    }

    #[test]
    fn a_cause_its_wrapper_repeats_is_said_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("A network error: {0}")]
        struct Wrapper(#[source] Inner);
        #[derive(Debug, thiserror::Error)]
        #[error("error sending request")]
        struct Inner(#[source] std::io::Error);
        let error = anyhow::Error::new(Wrapper(Inner(std::io::Error::other("connection refused"))))
            .context("Telegram getMe failed");
        assert_eq!(
            causes(&error),
            "Telegram getMe failed: A network error: error sending request: connection refused"
        );
    }
}
