//! Configuration of the fake server. The defaults are GitHub's published
//! numbers (one-hour installation tokens, 80 content-creating requests per
//! minute and 500 per hour), so a test that does not touch them checks the bot
//! against the real thing.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct FakeGitHubConfig {
    /// The App's id (the JWT `iss`). Default 1_234_567.
    pub app_id: u64,
    /// The App's slug; its bot user is `<slug>[bot]`. Default `switchboard`.
    pub app_slug: String,
    /// The App's private key as GitHub hands it out (PKCS#1 PEM, `BEGIN RSA
    /// PRIVATE KEY`). Default `None`: a fresh 2048-bit key is generated with
    /// `openssl genrsa -traditional 2048` when the fake starts.
    pub app_private_key_pem: Option<String>,
    /// The one installation of the App. Default 42_000_001.
    pub installation_id: u64,
    /// Secret the webhook deliveries are signed with. Default
    /// `fake-github-webhook-secret`.
    pub webhook_secret: String,
    /// `X-GitHub-Hook-ID` of deliveries. Default 109_948_940.
    pub hook_id: u64,
    /// Lifetime of installation tokens. Default one hour, as on GitHub.
    pub token_ttl: Duration,
    /// Content-creating requests (comments, replies, reviews, reactions) one
    /// installation may make in any rolling minute. Default 80.
    pub content_per_minute: u32,
    /// The same, per rolling hour. Default 500.
    pub content_per_hour: u32,
    /// Primary rate limit reported in `x-ratelimit-limit` for installation
    /// tokens (counted, never enforced). Default 5000.
    pub primary_per_hour: u32,
}

impl Default for FakeGitHubConfig {
    fn default() -> Self {
        Self {
            app_id: 1_234_567,
            app_slug: "switchboard".to_string(),
            app_private_key_pem: None,
            installation_id: 42_000_001,
            webhook_secret: "fake-github-webhook-secret".to_string(),
            hook_id: 109_948_940,
            token_ttl: Duration::from_secs(3600),
            content_per_minute: 80,
            content_per_hour: 500,
            primary_per_hour: 5000,
        }
    }
}

impl FakeGitHubConfig {
    /// The defaults with the secondary (content creation) limits switched
    /// off, for tests about something else that post a lot.
    pub fn without_rate_limits() -> Self {
        Self {
            content_per_minute: u32::MAX,
            content_per_hour: u32::MAX,
            ..Self::default()
        }
    }
}
