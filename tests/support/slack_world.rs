//! Slack in the harness: a fake workspace the bot is installed in, Alice (allowed) in it, and a
//! channel with both of them. The bot connects over Socket Mode, or receives signed Events API
//! requests on its HTTP server, as its config says.

use std::process::Command;

use super::fake_slack::{
    ChannelKind, FakeChannel, FakeSlack, FakeSlackConfig, FakeUser, SlackMessage,
};
use super::harness::WAIT;

/// How Slack is set up in a test.
#[derive(Debug, Clone, Default)]
pub struct SlackSetup {
    /// Events API over HTTP instead of Socket Mode.
    pub events_api: bool,
    pub fake: FakeSlackConfig,
}

pub struct SlackWorld {
    pub fake: FakeSlack,
    pub alice: FakeUser,
    /// A public channel with Alice and the bot in it.
    pub channel: FakeChannel,
    events_api: bool,
    /// Socket Mode connections seen when the bot was last started.
    connections_before: usize,
}

impl SlackWorld {
    pub async fn start(setup: &SlackSetup) -> SlackWorld {
        let fake = FakeSlack::start(setup.fake.clone()).await;
        let alice = fake.create_user("alice");
        let bot = fake.bot_user();
        let channel = fake.create_channel("dev", ChannelKind::Public, &[&alice, &bot]);
        SlackWorld {
            fake,
            alice,
            channel,
            events_api: setup.events_api,
            connections_before: 0,
        }
    }

    /// Whether the bot receives events over HTTP (else Socket Mode).
    pub fn events_api(&self) -> bool {
        self.events_api
    }

    /// The `[slack]` table of the bot's config.
    pub fn config_toml(&self) -> String {
        format!(
            "[slack]\napi_url = \"{api}\"\nmode = \"{mode}\"\nallowed_users = [\"{alice}\"]\n",
            api = self.fake.api_url(),
            mode = if self.events_api { "events" } else { "socket" },
            alice = self.alice.id,
        )
    }

    /// The secrets, in the environment as in production.
    pub fn env(&self, cmd: &mut Command) {
        cmd.env("SLACK_BOT_TOKEN", self.fake.bot_token());
        if self.events_api {
            cmd.env("SLACK_SIGNING_SECRET", self.fake.signing_secret());
        } else {
            cmd.env("SLACK_APP_TOKEN", self.fake.app_token());
        }
    }

    /// Called just before the bot starts.
    pub fn bot_starting(&mut self) {
        self.connections_before = self.fake.connections().len();
    }

    /// Waits until the bot receives events: a new Socket Mode connection is open, or (Events
    /// API) its HTTP server is up, and then points the fake's deliveries at it.
    pub async fn bot_started(&self, http_port: u16) {
        if self.events_api {
            let base = format!("http://127.0.0.1:{http_port}");
            self.fake.deliver_over_http(
                &format!("{base}/slack/events"),
                Some(&format!("{base}/slack/commands")),
            );
            return;
        }
        let before = self.connections_before;
        let found = self
            .fake
            .wait_for(WAIT, |f| {
                let all = f.connections();
                (all.len() > before && !f.open_connections().is_empty()).then_some(())
            })
            .await;
        assert!(found.is_some(), "the bot opened no Socket Mode connection");
    }

    /// The bot's messages in a thread, oldest first.
    pub fn thread(&self, channel: &FakeChannel, thread_ts: &str) -> Vec<SlackMessage> {
        self.fake.bot_messages(channel, Some(thread_ts))
    }

    /// Waits until a bot message in the thread shows text containing `needle`.
    pub async fn wait_text(
        &self,
        channel: &FakeChannel,
        thread_ts: Option<&str>,
        needle: &str,
    ) -> SlackMessage {
        self.fake
            .wait_for_bot_message(channel, thread_ts, |m| m.text.contains(needle), WAIT)
            .await
    }

    /// Waits for the bot's reaction `name` on a message.
    pub async fn wait_reaction(&self, channel: &FakeChannel, ts: &str, name: &str) {
        self.fake.wait_for_reaction(channel, ts, name, WAIT).await;
    }

    /// Fails if the bot made a call inside a rate-limit window.
    pub fn assert_no_violations(&self) {
        let violations = self.fake.violations();
        assert!(
            violations.is_empty(),
            "Slack rate-limit violations: {violations:#?}"
        );
    }
}
