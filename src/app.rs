//! One place wires everything: the store, the hosts, the core and each platform's loops, and
//! watches them all.
//!
//! A loop that panics is logged by name and started again after a backoff (a panic is an
//! event, not a freeze): one bad payload or bug in one platform's loop must not take the others
//! down, and a restart of the whole service would only meet the same payload again. A loop that
//! returns — an error it cannot get past, such as a token Discord refuses — is reported by name
//! and takes the service down, for the system's supervisor to restart, rather than limping on
//! without it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use axum::Router;
use tokio::task::JoinSet;

use crate::bots::discord;
use crate::bots::github::{self, outlet::GitHubOutlet, policy::GitHubPolicy};
use crate::bots::outlet;
use crate::bots::pacing::Pacer;
use crate::bots::slack::{self, outlet::SlackOutlet, policy::SlackPolicy};
use crate::bots::telegram::{self, outlet::TelegramOutlet, policy::TelegramPolicy};
use crate::bots::web::{WebOutlet, WebPolicy};
use crate::config::{Config, Secrets, SlackMode, TelegramMode};
use crate::core::access::Access;
use crate::core::policy::Policy;
use crate::core::transcription::Transcriber;
use crate::core::{Core, ci_watch, router};
use crate::edge;
use crate::runner::hosts::Hosts;
use crate::runner::remote_turn;
use crate::store::Store;
use crate::web::auth::{AdminToken, Auth};
use crate::web::{self, Console};

type Tasks = JoinSet<(&'static str, Result<()>)>;

/// The first pause before a panicked loop is started again; it doubles with each panic in a
/// row, up to `RESTART_MAX`.
const RESTART_MIN: Duration = Duration::from_secs(1);
const RESTART_MAX: Duration = Duration::from_secs(60);
/// A loop that ran this long before panicking starts the backoff afresh.
const RESTART_RESET: Duration = Duration::from_secs(300);

/// How often each host's leftover turn files are swept (see `remote_turn::sweep`).
const SWEEP_INTERVAL: Duration = Duration::from_secs(6 * 3600);
/// How old leftovers must be to go.
const SWEEP_AGE: Duration = Duration::from_secs(24 * 3600);

/// Runs the loop `start` makes, under [`supervise`].
fn spawn<F, T>(tasks: &mut Tasks, name: &'static str, start: F)
where
    F: FnMut() -> T + Send + 'static,
    T: Future<Output = Result<()>> + Send + 'static,
{
    tasks.spawn(async move { (name, supervise(name, start).await) });
}

/// Runs a long-lived loop, starting it again (after a growing pause) whenever it panics;
/// returns what the loop returned.
async fn supervise<F, T>(name: &str, mut start: F) -> Result<()>
where
    F: FnMut() -> T,
    T: Future<Output = Result<()>>,
{
    let mut pause = RESTART_MIN;
    loop {
        let started = tokio::time::Instant::now();
        let panic = match crate::panics::catch_async(start()).await {
            Ok(returned) => return returned,
            Err(panic) => panic,
        };
        if started.elapsed() >= RESTART_RESET {
            pause = RESTART_MIN;
        }
        tracing::error!(
            task = name,
            "the {name} task panicked: {panic}; starting it again in {}s",
            pause.as_secs()
        );
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(RESTART_MAX);
    }
}

/// Runs the service until a shutdown signal or a fatal error.
pub async fn serve(config: Config, secrets: Secrets) -> Result<()> {
    let github_app = config.github.app_id;
    if !config.web.enabled
        && secrets.telegram_token.is_none()
        && github_app.is_none()
        && secrets.slack.bot_token.is_none()
        && secrets.discord.bot_token.is_none()
    {
        bail!(
            "no front end is configured: the web console is off (web.enabled = false), so set \
             TELEGRAM_BOT_TOKEN (or telegram.token_file) to the token BotFather gave you, \
             SLACK_BOT_TOKEN for Slack (see bots/slack/), DISCORD_BOT_TOKEN for Discord (see \
             bots/discord/), or set up the GitHub App (github.app_id, see bots/github/)"
        );
    }
    let store = Store::open(&config.database.url, config.database.max_connections).await?;
    let hosts = Hosts::from_config(&config)?;
    let mut policies: Vec<Arc<dyn Policy>> = Vec::new();
    if config.web.enabled {
        policies.push(Arc::new(WebPolicy::new(&config.web.users)));
    }

    let telegram_bot = match &secrets.telegram_token {
        Some(token) => {
            let access = Access::new(
                config.telegram.allowed_users.iter(),
                config.telegram.allowed_chats.iter(),
            );
            if access.is_empty() {
                tracing::warn!(
                    "nobody is allowed to use the Telegram bot yet: set telegram.allowed_users (or \
                     TELEGRAM_ALLOWED_USERS); refusals show each user's id"
                );
            }
            let bot = telegram::client(&config.telegram, token)?;
            policies.push(Arc::new(TelegramPolicy::new(access, bot.clone())));
            let me = telegram::identify_with_retry(&bot).await;
            tracing::info!("Telegram bot @{} is ready", me.username);
            if let Err(e) = telegram::register_commands(&bot).await {
                tracing::warn!("{e:#}; the command menu may be out of date");
            }
            Some((bot, me))
        }
        None => None,
    };
    let github = match github_app {
        Some(app_id) => {
            let key = secrets
                .github_private_key
                .as_ref()
                .context("the GitHub App private key")?;
            let app = github::connect(&config.github, app_id, key).await?;
            let host_name = config.github.host.as_ref().unwrap_or(&config.defaults.host);
            let host = hosts
                .get(host_name)
                .with_context(|| format!("no host {host_name} for GitHub"))?
                .name
                .clone();
            policies.push(Arc::new(GitHubPolicy::new(
                app.client.clone(),
                app.me.clone(),
                config.github.clone(),
                host,
                config.workspaces.branch_prefix.clone(),
            )));
            tracing::info!("GitHub App {} is ready", app.me.bot_login);
            Some(app)
        }
        None => None,
    };
    let slack_app = match &secrets.slack.bot_token {
        Some(token) => {
            let config = &config.slack;
            if config.allowed_users.is_empty() && config.allowed_teams.is_empty() {
                tracing::warn!(
                    "nobody is allowed to use the Slack bot yet: set slack.allowed_users or \
                     slack.allowed_teams (or SLACK_ALLOWED_USERS); refusals show each user's id"
                );
            }
            let app = slack::connect(config, token).await?;
            policies.push(Arc::new(SlackPolicy::new(
                &config.allowed_users,
                &config.allowed_teams,
                app.client.clone(),
                app.me.clone(),
            )));
            tracing::info!("Slack bot <@{}> is ready", app.me.user_id);
            Some(app)
        }
        None => None,
    };
    let discord_app = match &secrets.discord.bot_token {
        Some(token) => {
            let config = &config.discord;
            if config.allows_nobody() {
                tracing::warn!(
                    "nobody is allowed to use the Discord bot yet: set discord.allowed_users, \
                     allowed_roles or allowed_guilds (or DISCORD_ALLOWED_USERS); refusals show \
                     each user's id"
                );
            }
            let app = discord::connect(config, token).await?;
            policies.push(Arc::new(app.policy(config)));
            tracing::info!("Discord bot {} is ready", app.me.user_id);
            if let Err(e) = app.register_commands(config).await {
                tracing::warn!("{e:#}; the slash commands may be out of date");
            }
            Some(app)
        }
        None => None,
    };
    let transcriber = match &config.transcription {
        Some(transcription) => Some(Transcriber::new(
            transcription,
            secrets.transcription_key.clone(),
        )?),
        None => None,
    };
    let core = Core::new(store, hosts, &config, policies, transcriber);

    // Before the router can queue anything: turns still under way keep their host slots.
    let resumed = core.resume_pending_work().await?;
    if resumed > 0 {
        tracing::info!("resumed work in {resumed} session(s)");
    }

    let mut tasks = Tasks::new();
    let mut http = Router::new();
    let mut http_needed = false;
    spawn(&mut tasks, "router", {
        let core = core.clone();
        move || router::run(core.clone())
    });
    if config.web.enabled {
        let (auth, generated) = Auth::start(
            core.store.clone(),
            &config.web,
            secrets.web_admin_token.as_ref(),
        )
        .await?;
        announce_console(config.http.listen, &generated);
        let console = Arc::new(Console {
            core: core.clone(),
            auth,
        });
        http = http.merge(web::routes(console));
        http_needed = true;
        let pacer = Arc::new(Pacer::new(crate::bots::web::limits()));
        spawn_outbox(&mut tasks, "web outbox", &core, Arc::new(WebOutlet), pacer);
    }
    if let Some((bot, me)) = telegram_bot {
        let pacer = Arc::new(Pacer::new(telegram::limits(&config.telegram)));
        let sender = Arc::new(TelegramOutlet::new(bot.clone()));
        spawn_outbox(&mut tasks, "telegram outbox", &core, sender, pacer);
        match config.telegram.mode {
            TelegramMode::Polling => {
                let (core, timeout) = (core.clone(), config.telegram.poll_timeout);
                spawn(&mut tasks, "telegram polling", move || {
                    telegram::poll(core.clone(), bot.clone(), me.clone(), timeout)
                });
            }
            TelegramMode::Webhook => {
                let url = config.telegram.webhook_url.clone().context("webhook_url")?;
                let secret = secrets
                    .telegram_webhook_secret
                    .clone()
                    .context("the webhook secret")?;
                http = http.merge(telegram::webhook(core.clone(), &bot, me, &url, secret).await?);
                http_needed = true;
            }
        }
    }
    if let Some(app) = github {
        let pacer = Arc::new(Pacer::new(github::limits()));
        let sender = Arc::new(GitHubOutlet::new(
            app.client.clone(),
            app.me.bot_login.clone(),
        ));
        spawn_outbox(&mut tasks, "github outbox", &core, sender, pacer);
        let secrets = secrets.github_webhook_secrets.clone();
        http = http.merge(github::webhook::routes(
            core.clone(),
            app.client,
            app.me,
            secrets,
            config.github.max_event_age,
        ));
        http_needed = true;
    }
    if let Some(app) = slack_app {
        let pacer = Arc::new(Pacer::new(slack::limits()));
        let sender = Arc::new(SlackOutlet::new(app.client.clone()));
        spawn_outbox(&mut tasks, "slack outbox", &core, sender, pacer);
        match config.slack.mode {
            SlackMode::Socket => {
                let token = secrets
                    .slack
                    .app_token
                    .clone()
                    .context("the Slack app token")?;
                let core = core.clone();
                spawn(&mut tasks, "slack socket mode", move || {
                    let (client, me) = (app.client.clone(), app.me.clone());
                    slack::socket_mode(core.clone(), client, token.clone(), me)
                });
            }
            SlackMode::Events => {
                let secret = secrets
                    .slack
                    .signing_secret
                    .clone()
                    .context("the Slack signing secret")?;
                http = http.merge(slack::events_api(core.clone(), app.me, secret));
                http_needed = true;
            }
        }
    }
    if let Some(app) = discord_app {
        let pacer = Arc::new(Pacer::new(discord::limits()));
        spawn_outbox(
            &mut tasks,
            "discord outbox",
            &core,
            Arc::new(app.outlet()),
            pacer,
        );
        let app = Arc::new(app);
        spawn(&mut tasks, "discord typing", {
            let app = app.clone();
            move || app.typing()
        });
        let core = core.clone();
        spawn(&mut tasks, "discord gateway", move || {
            app.gateway(core.clone())
        });
    }
    if !config.hooks.is_empty() {
        http = http.merge(crate::bots::hooks::routes(
            core.clone(),
            &config.hooks,
            &secrets.hooks,
        ));
        http_needed = true;
    }
    if http_needed {
        let listener = tokio::net::TcpListener::bind(config.http.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.http.listen))?;
        tracing::info!("HTTP server on {}", config.http.listen);
        let http = edge::client::resolving(http, &config.http.trusted_proxies);
        let (address, mut listener) = (config.http.listen, Some(listener));
        spawn(&mut tasks, "http server", move || {
            let (listener, http) = (listener.take(), http.clone());
            async move {
                let listener = match listener {
                    Some(listener) => listener,
                    None => tokio::net::TcpListener::bind(address)
                        .await
                        .with_context(|| format!("cannot listen on {address} again"))?,
                };
                axum::serve(
                    listener,
                    http.into_make_service_with_connect_info::<std::net::SocketAddr>(),
                )
                .await
                .context("the HTTP server failed")
            }
        });
    }
    spawn(&mut tasks, "workspace clean-up", {
        let core = core.clone();
        move || crate::core::cleanup::sweep_workspaces(core.clone())
    });
    crate::core::schedules::store_configured(&core, &config.schedules).await?;
    spawn(&mut tasks, "scheduler", {
        let core = core.clone();
        move || crate::core::schedules::run(core.clone())
    });
    spawn(&mut tasks, "ci watch", {
        let core = core.clone();
        move || ci_watch::run(core.clone())
    });
    spawn(&mut tasks, "turn file sweeper", {
        let core = core.clone();
        move || sweep_hosts(core.clone())
    });
    tokio::select! {
        Some(joined) = tasks.join_next() => {
            let (name, result) = joined.map_err(|e| anyhow!("a service task ended: {e}"))?;
            match result {
                Ok(()) => bail!("the {name} task stopped"),
                Err(e) => Err(e.context(format!("the {name} task failed"))),
            }
        }
        signal = shutdown_signal() => {
            tracing::info!("{signal}: shutting down; running turns continue on their hosts");
            Ok(())
        }
    }
}

/// Runs a platform's outbox loop.
fn spawn_outbox<O: outlet::Outlet>(
    tasks: &mut Tasks,
    name: &'static str,
    core: &Arc<Core>,
    sender: Arc<O>,
    pacer: Arc<Pacer>,
) {
    let core = core.clone();
    spawn(tasks, name, move || {
        outlet::run(core.clone(), sender.clone(), pacer.clone())
    });
}

/// Says where the console is and how the admin signs in. At first start (a generated admin
/// token) the sign-in link, with the token, is printed once on stdout — never logged; at later
/// starts the log says how to get in again without it.
fn announce_console(listen: std::net::SocketAddr, admin: &AdminToken) {
    let shown = match listen.ip() {
        ip if ip.is_unspecified() => {
            std::net::SocketAddr::new([127, 0, 0, 1].into(), listen.port())
        }
        _ => listen,
    };
    match admin {
        AdminToken::Generated(token) => {
            println!(
                "Switchboard web console: open http://{shown}/#token={token}\n\
                 This sign-in link is printed once: it holds the admin token. Keep it, or set \
                 SWITCHBOARD_WEB_TOKEN."
            );
            tracing::info!("web console on http://{shown}/ (sign-in link printed on stdout)");
        }
        AdminToken::GeneratedBefore => tracing::info!(
            "web console on http://{shown}/; sign in with the link printed at first start. Lost \
             it? Set SWITCHBOARD_WEB_TOKEN to a new admin token and restart, or add someone with \
             `switchboard web-token NAME --admin`"
        ),
        AdminToken::Configured => tracing::info!("web console on http://{shown}/"),
    }
}

/// Periodically removes what finished turns left on their hosts.
async fn sweep_hosts(core: Arc<Core>) -> Result<()> {
    loop {
        for host in core.hosts.iter() {
            if let Err(e) = remote_turn::sweep(&*host.transport, &host.state_dir, SWEEP_AGE).await {
                tracing::warn!(host = %host.name, "sweeping old turn files failed: {e}");
            }
        }
        tokio::time::sleep(SWEEP_INTERVAL).await;
    }
}

async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_panicking_loop_is_started_again_and_what_it_returns_ends_it() {
        let starts = AtomicU32::new(0);
        let started = tokio::time::Instant::now();
        let ended = supervise("test loop", || {
            let n = starts.fetch_add(1, Ordering::SeqCst);
            async move {
                tokio::task::yield_now().await;
                match n {
                    0 | 1 => panic!("bug number {n}"),
                    _ => Err(anyhow!("a fatal error")),
                }
            }
        })
        .await;
        assert_eq!(starts.load(Ordering::SeqCst), 3);
        assert_eq!(ended.unwrap_err().to_string(), "a fatal error");
        assert_eq!(started.elapsed(), RESTART_MIN * 3, "paused 1 s, then 2 s");
    }
}
