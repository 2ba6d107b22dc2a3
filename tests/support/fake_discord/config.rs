//! Configuration of the fake Discord. The defaults are Discord's own numbers
//! (published, or observed where Discord publishes none, as noted per
//! field), so a test that does not touch them checks the bot against the
//! real thing; tests that need speed shorten the heartbeat and the windows
//! explicitly.

use std::time::Duration;

use super::routes::RouteKind;

/// One per-route bucket: `limit` requests per fixed window of `per`, the
/// window starting at the first request (Discord's `X-RateLimit-Reset-After`
/// counts down from there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketLimit {
    pub limit: u32,
    pub per: Duration,
}

impl BucketLimit {
    pub const fn new(limit: u32, per: Duration) -> Self {
        Self { limit, per }
    }

    /// A bucket nobody fills in a test.
    pub const fn unlimited() -> Self {
        Self {
            limit: u32::MAX,
            per: Duration::from_secs(1),
        }
    }
}

/// Per-route limits, each bucket keyed by its major parameter (channel,
/// guild, application, webhook id + token, interaction).
#[derive(Debug, Clone, Copy)]
pub struct RouteLimits {
    /// `POST /channels/{id}/messages`: 5 per 5 s per channel (observed and
    /// widely documented by libraries).
    pub message_create: BucketLimit,
    /// `PATCH /channels/{id}/messages/{id}`: 5 per 5 s per channel.
    pub message_edit: BucketLimit,
    /// `DELETE /channels/{id}/messages/{id}`: 5 per 1 s per channel.
    pub message_delete: BucketLimit,
    /// `POST /channels/{id}/typing`: 5 per 5 s per channel.
    pub typing: BucketLimit,
    /// Reaction add/remove: 1 per 0.25 s per channel (Discord answers
    /// `X-RateLimit-Limit: 1`, `Reset-After: 0.25`).
    pub reaction: BucketLimit,
    /// `POST …/messages/{id}/threads`: unpublished; the fake uses 10 per 10 s
    /// per channel.
    pub thread_create: BucketLimit,
    /// Bulk overwrite of application commands: unpublished; the fake uses
    /// 5 per 20 s per application (global) or per guild.
    pub commands_overwrite: BucketLimit,
    /// Interaction callbacks, follow-ups and original-response edits:
    /// webhook-like, 5 per 2 s per interaction token. Exempt from the
    /// global limit.
    pub webhook: BucketLimit,
    /// Every other route (reads, gateway info): 50 per 1 s.
    pub other: BucketLimit,
}

impl Default for RouteLimits {
    fn default() -> Self {
        let s = Duration::from_secs;
        Self {
            message_create: BucketLimit::new(5, s(5)),
            message_edit: BucketLimit::new(5, s(5)),
            message_delete: BucketLimit::new(5, s(1)),
            typing: BucketLimit::new(5, s(5)),
            reaction: BucketLimit::new(1, Duration::from_millis(250)),
            thread_create: BucketLimit::new(10, s(10)),
            commands_overwrite: BucketLimit::new(5, s(20)),
            webhook: BucketLimit::new(5, s(2)),
            other: BucketLimit::new(50, s(1)),
        }
    }
}

impl RouteLimits {
    pub fn unlimited() -> Self {
        let u = BucketLimit::unlimited();
        Self {
            message_create: u,
            message_edit: u,
            message_delete: u,
            typing: u,
            reaction: u,
            thread_create: u,
            commands_overwrite: u,
            webhook: u,
            other: u,
        }
    }
}

#[derive(Debug, Clone)]
pub struct FakeDiscordConfig {
    /// The bot token (`Authorization: Bot <token>`, IDENTIFY's `token`).
    /// Default `MTA1.fake-discord.bot-token`.
    pub token: String,
    /// The application's name, also the bot user's username.
    /// Default `Switchboard`.
    pub application_name: String,
    /// Whether the privileged MESSAGE_CONTENT intent is enabled for the
    /// application (the Developer Portal toggle). Without it IDENTIFY with
    /// the intent is closed with 4014, and REST reads of messages come back
    /// without content. Default true.
    pub message_content_enabled: bool,
    /// The privileged GUILD_MEMBERS intent toggle. Default false.
    pub guild_members_enabled: bool,
    /// The privileged GUILD_PRESENCES intent toggle. Default false.
    pub guild_presences_enabled: bool,
    /// HELLO's `heartbeat_interval`. Default 41 250 ms (what Discord sends).
    pub heartbeat_interval: Duration,
    /// A connection with no heartbeat for `heartbeat_interval ×` this is a
    /// zombie: closed with 4009 and its session invalidated. Default 1.5.
    pub heartbeat_grace: f64,
    /// How long a disconnected session stays resumable. Discord: "a few
    /// minutes". Default 3 min.
    pub resume_window: Duration,
    /// After sending op 7 RECONNECT, the fake drops the connection itself if
    /// the client has not closed it within this. Default 5 s.
    pub reconnect_grace: Duration,
    /// Client frames a connection may send per rolling 60 s before it is
    /// closed with 4008. Default 120.
    pub gateway_commands_per_minute: u32,
    /// IDENTIFYs allowed (`session_start_limit.total`). Default 1000.
    pub session_start_limit: u32,
    /// Per-route buckets.
    pub routes: RouteLimits,
    /// Route kinds that share one bucket, as Discord lets several routes share one: each group
    /// answers one `X-RateLimit-Bucket` hash and draws from one count per major parameter,
    /// with the limit of the group's first kind. Which real routes share is Discord's to
    /// change and unpublished, so the default shares none; tests that hold the bot to shared
    /// buckets name the pairs ([`Self::sharing`]).
    pub shared_buckets: Vec<Vec<RouteKind>>,
    /// Requests per second across all routes, per bot (interaction and
    /// webhook routes exempt). Default 50.
    pub global_per_second: u32,
    /// Slack granted to every timing check, for scheduling jitter between
    /// the bot's clock and the fake's. Default 30 ms.
    pub tolerance: Duration,
    /// The initial interaction response must arrive within this of the
    /// INTERACTION_CREATE. Default 3 s.
    pub interaction_ack_deadline: Duration,
    /// Interaction tokens (follow-ups, original edits) live this long.
    /// Default 15 min.
    pub interaction_token_lifetime: Duration,
    /// How far back `enforce_nonce` looks for a message with the same nonce.
    /// Discord: "the past few minutes". Default 3 min.
    pub nonce_window: Duration,
    /// Largest total upload of one message. Discord's default (unboosted
    /// guild) is 10 MiB since 2024; boosted guilds allow more. Default
    /// 10 MiB.
    pub max_upload_bytes: usize,
}

impl Default for FakeDiscordConfig {
    fn default() -> Self {
        Self {
            token: "MTA1.fake-discord.bot-token".to_string(),
            application_name: "Switchboard".to_string(),
            message_content_enabled: true,
            guild_members_enabled: false,
            guild_presences_enabled: false,
            heartbeat_interval: Duration::from_millis(41_250),
            heartbeat_grace: 1.5,
            resume_window: Duration::from_secs(180),
            reconnect_grace: Duration::from_secs(5),
            gateway_commands_per_minute: 120,
            session_start_limit: 1000,
            routes: RouteLimits::default(),
            shared_buckets: Vec::new(),
            global_per_second: 50,
            tolerance: Duration::from_millis(30),
            interaction_ack_deadline: Duration::from_secs(3),
            interaction_token_lifetime: Duration::from_secs(15 * 60),
            nonce_window: Duration::from_secs(180),
            max_upload_bytes: 10 * 1024 * 1024,
        }
    }
}

impl FakeDiscordConfig {
    /// The defaults with every rate limit switched off, for tests about
    /// something else. Storms ([`storm`](super::FakeDiscord::storm)) still
    /// apply.
    pub fn without_rate_limits() -> Self {
        Self {
            routes: RouteLimits::unlimited(),
            global_per_second: u32::MAX,
            ..Self::default()
        }
    }

    /// `kinds` share one bucket, with the first one's limit.
    pub fn sharing(mut self, kinds: &[RouteKind]) -> Self {
        self.shared_buckets.push(kinds.to_vec());
        self
    }

    /// The kind whose bucket `kind` draws from: the first of its group, or itself.
    pub(super) fn bucket_of(&self, kind: RouteKind) -> RouteKind {
        self.shared_buckets
            .iter()
            .find(|group| group.contains(&kind))
            .and_then(|group| group.first().copied())
            .unwrap_or(kind)
    }

    /// A short heartbeat, for gateway tests that must see heartbeats (and
    /// zombie detection) within a test's time.
    pub fn with_heartbeat(mut self, interval: Duration) -> Self {
        self.heartbeat_interval = interval;
        self
    }
}
