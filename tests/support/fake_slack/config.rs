//! Configuration of the fake. The defaults are Slack's published numbers
//! (rate-limit tiers, the 3 s acknowledgement deadline, three retries, the
//! 40,000-character text limit), so a test that does not touch them checks the
//! bot against the real thing; tests that need speed lower them explicitly.

use std::time::Duration;

/// Where Slack sends events and slash commands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Delivery {
    /// Over the Socket Mode WebSocket the bot opens with
    /// `apps.connections.open` (the default).
    #[default]
    SocketMode,
    /// Signed HTTP POSTs to the app's Request URLs.
    Http {
        /// Event Subscriptions Request URL, e.g. `http://127.0.0.1:P/slack/events`.
        events_url: String,
        /// Slash command Request URL; `None` sends commands to `events_url`.
        commands_url: Option<String>,
    },
}

/// Web API rate-limit tiers, per method per workspace per minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    One,
    Two,
    Three,
    Four,
    /// `auth.test`: "hundreds of requests per minute".
    AuthTest,
    /// `chat.postMessage`: per channel and per workspace, see the config.
    PostMessage,
}

#[derive(Debug, Clone)]
pub struct FakeSlackConfig {
    /// Default `T0FAKE0TEAM`.
    pub team_id: String,
    /// The workspace's subdomain. Default `switchboard-test`.
    pub team_domain: String,
    /// Default `Switchboard Test`.
    pub team_name: String,
    /// The app (`A…`). Default `A0FAKE00APP`.
    pub app_id: String,
    /// The app's bot user (`U…`). Default `U0FAKE00BOT`.
    pub bot_user_id: String,
    /// The bot's `bot_id` (`B…`). Default `B0FAKE00BOT`.
    pub bot_id: String,
    /// The bot user's name. Default `switchboard`.
    pub bot_name: String,
    /// Default `xoxb-1111111111-2222222222-fakeslackbottoken`.
    pub bot_token: String,
    /// App-level token for `apps.connections.open`. Default
    /// `xapp-1-A0FAKE00APP-3333333333-fakeslackapptoken`.
    pub app_token: String,
    /// Signs HTTP deliveries. Default `fake-slack-signing-secret`.
    pub signing_secret: String,
    /// The deprecated verification `token` in payloads. Default
    /// `fakeVerificationToken1234`.
    pub verification_token: String,
    /// Where events go. Default Socket Mode; switch at run time with
    /// [`FakeSlack::deliver_over_http`](super::FakeSlack::deliver_over_http).
    pub delivery: Delivery,
    /// The command [`FakeSlack::slash_command`](super::FakeSlack::slash_command)
    /// invokes. Default `/switchboard`.
    pub slash_command: String,
    /// Socket Mode: how long an envelope may wait for its ack. Default 3 s.
    pub ack_timeout: Duration,
    /// Socket Mode: retries of an unacknowledged `events_api` envelope.
    /// Default 3.
    pub socket_max_retries: u32,
    /// Socket Mode: after `send_disconnect`, the connection is closed this
    /// long later unless the client closed it first. Default 10 s.
    pub disconnect_grace: Duration,
    /// HTTP: how long the app's endpoint may take. Default 3 s.
    pub http_timeout: Duration,
    /// HTTP: pauses before retry 1, 2, 3 of an event the endpoint failed.
    /// Default immediately, 1 min, 5 min (Slack's schedule).
    pub http_retry_delays: Vec<Duration>,
    /// Accepted calls per rolling minute, per method, for Tier 1..4 (index
    /// 0..3). Default `[3, 20, 50, 100]`: Slack publishes "1+", "20+",
    /// "50+", "100+" and says Tier 1 tolerates "a small amount of burst
    /// behavior", modelled as 3.
    pub tier_per_minute: [u32; 4],
    /// `auth.test` per rolling minute. Default 600 ("hundreds").
    pub auth_test_per_minute: u32,
    /// Per-method overrides of the above (method name, per minute).
    pub method_per_minute: Vec<(String, u32)>,
    /// `chat.postMessage` per channel: one token per `post_refill` refills a
    /// bucket of this many. Default 3: Slack allows "1 per second, short
    /// bursts >1", without saying how long a burst; 3 lets a bot answer and
    /// post a follow-up at once, and catches a bot that streams.
    pub post_burst: u32,
    /// Per-channel refill interval of that bucket. Default 1 s.
    pub post_refill: Duration,
    /// `chat.postMessage` across the workspace per rolling minute (Slack
    /// keeps "a workspace-wide limit" without a number). Default 300.
    pub post_workspace_per_minute: u32,
    /// Slack granted to every timing check for scheduling jitter between the
    /// bot's clock and the fake's. Default 50 ms.
    pub tolerance: Duration,
    /// The bot's own posts and edits come back as `message` events, as on
    /// Slack. Default true.
    pub echo_bot_messages: bool,
    /// Texts longer than this many characters are truncated. Default 40,000.
    pub max_text_chars: usize,
}

impl Default for FakeSlackConfig {
    fn default() -> Self {
        Self {
            team_id: "T0FAKE0TEAM".into(),
            team_domain: "switchboard-test".into(),
            team_name: "Switchboard Test".into(),
            app_id: "A0FAKE00APP".into(),
            bot_user_id: "U0FAKE00BOT".into(),
            bot_id: "B0FAKE00BOT".into(),
            bot_name: "switchboard".into(),
            bot_token: "xoxb-1111111111-2222222222-fakeslackbottoken".into(),
            app_token: "xapp-1-A0FAKE00APP-3333333333-fakeslackapptoken".into(),
            signing_secret: "fake-slack-signing-secret".into(),
            verification_token: "fakeVerificationToken1234".into(),
            delivery: Delivery::SocketMode,
            slash_command: "/switchboard".into(),
            ack_timeout: Duration::from_secs(3),
            socket_max_retries: 3,
            disconnect_grace: Duration::from_secs(10),
            http_timeout: Duration::from_secs(3),
            http_retry_delays: vec![
                Duration::ZERO,
                Duration::from_secs(60),
                Duration::from_secs(300),
            ],
            tier_per_minute: [3, 20, 50, 100],
            auth_test_per_minute: 600,
            method_per_minute: Vec::new(),
            post_burst: 3,
            post_refill: Duration::from_secs(1),
            post_workspace_per_minute: 300,
            tolerance: Duration::from_millis(50),
            echo_bot_messages: true,
            max_text_chars: 40_000,
        }
    }
}

impl FakeSlackConfig {
    /// The defaults with every rate limit switched off, for tests about
    /// something else that call Slack a lot.
    pub fn without_rate_limits() -> Self {
        Self {
            tier_per_minute: [u32::MAX; 4],
            auth_test_per_minute: u32::MAX,
            post_burst: u32::MAX,
            post_refill: Duration::ZERO,
            post_workspace_per_minute: u32::MAX,
            ..Self::default()
        }
    }

    /// Short Socket Mode and HTTP timings, for tests of retries: 1 s ack
    /// deadline and HTTP timeout (short, yet long enough for a loaded
    /// machine), retries 50 ms apart, 300 ms disconnect grace.
    pub fn fast_retries(mut self) -> Self {
        self.ack_timeout = Duration::from_secs(1);
        self.http_timeout = Duration::from_secs(1);
        self.http_retry_delays = vec![Duration::from_millis(50); 3];
        self.disconnect_grace = Duration::from_millis(300);
        self
    }

    /// Accepted calls of `method` per rolling minute.
    pub fn per_minute(&self, method: &str, tier: Tier) -> u32 {
        if let Some((_, n)) = self.method_per_minute.iter().find(|(m, _)| m == method) {
            return *n;
        }
        match tier {
            Tier::One => self.tier_per_minute[0],
            Tier::Two => self.tier_per_minute[1],
            Tier::Three => self.tier_per_minute[2],
            Tier::Four => self.tier_per_minute[3],
            Tier::AuthTest => self.auth_test_per_minute,
            Tier::PostMessage => self.post_workspace_per_minute,
        }
    }
}
