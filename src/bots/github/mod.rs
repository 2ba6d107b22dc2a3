//! GitHub as a front end, as a GitHub App: `@switchboard` in issues and pull requests runs the
//! agent on a checkout of the pull request's head and answers in the thread; pull requests of
//! the configured dependency bots get a dependency review.
//!
//! The webhook ([`webhook`]) checks the signature, stores the delivery and answers at once;
//! the [`policy`] decides (write access, exact bot identities), gathers the context and the
//! checkout for the agent (for a dependency review, the pull request's files: the review itself
//! is `reviews`') and shapes how turns end; the [`outlet`] writes comments, replies,
//! reactions and reviews, and [`answer`] lays a turn's answer out as comments. [`client`] is the
//! REST client (its answers read into small serde structs), [`app_auth`] the App's JWT and
//! tokens, [`permission`] someone's access level on a repository.

pub mod answer;
pub mod app_auth;
pub mod client;
pub mod outlet;
pub mod payload;
pub mod permission;
pub mod policy;
pub mod prompt;
pub mod translate;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::bots::pacing::Limits;
use crate::config::{GitHubConfig, Secret};
use app_auth::AppKey;
use client::GitHubClient;
use translate::Identity;

/// The App, connected: its client and who it is.
pub struct GitHubApp {
    pub client: Arc<GitHubClient>,
    pub me: Identity,
}

/// Builds the client and asks GitHub for the App's slug (retrying until GitHub answers, as the
/// service may start before the network does).
pub async fn connect(config: &GitHubConfig, app_id: u64, key: &Secret) -> Result<GitHubApp> {
    let client = Arc::new(GitHubClient::new(
        &config.api_url,
        AppKey::new(app_id, key)?,
    )?);
    let mut delay = Duration::from_secs(1);
    let slug = loop {
        match client.app_slug().await {
            Ok(slug) => break slug,
            // Refused credentials will not get better: say so and stop.
            Err(client::ApiError::Status { status, message }) if status == 401 || status == 403 => {
                return Err(anyhow::anyhow!(
                    "GitHub refused the App's credentials ({status} {message}): check github.app_id \
                     and the private key"
                ));
            }
            Err(e) => {
                tracing::warn!("GitHub /app failed: {e}; retrying in {}s", delay.as_secs());
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(60));
            }
        }
    };
    Ok(GitHubApp {
        client,
        me: Identity {
            handle: config.handle.clone(),
            bot_login: format!("{slug}[bot]"),
            dependency_bots: config.dependency_bots.clone(),
            issue_label: config.issue_label.clone(),
        },
    })
}

/// GitHub's secondary rate limit on content creation: 80 a minute (and 500 an hour, which the
/// minute limit keeps a busy bot under in practice); one write a second per thread.
pub fn limits() -> Limits {
    Limits {
        per_chat_interval: Duration::from_secs(1),
        per_group: u32::MAX,
        group_window: Duration::from_secs(60),
        global: 80,
        global_window: Duration::from_secs(60),
    }
}

/// Checks the App's credentials for `switchboard check`: the App's bot account.
pub async fn identify(config: &GitHubConfig, app_id: u64, key: &Secret) -> Result<String> {
    let client = GitHubClient::new(&config.api_url, AppKey::new(app_id, key)?)?;
    let slug = client.app_slug().await.context("GitHub /app")?;
    Ok(format!("{slug}[bot]"))
}
