//! Discord in the harness: a fake Discord the bot is installed in, Alice (allowed) in a guild
//! with a text channel the bot can read. The bot connects to the fake's gateway and calls its
//! REST API.
//!
//! (Skeleton: the Discord front end fills in the config and the waits.)

use std::process::Command;

use super::fake_discord::{FakeChannel, FakeDiscord, FakeDiscordConfig, FakeGuild, FakeUser};
use super::harness::WAIT;

/// How Discord is set up in a test.
#[derive(Debug, Clone, Default)]
pub struct DiscordSetup {
    pub fake: FakeDiscordConfig,
}

pub struct DiscordWorld {
    pub fake: FakeDiscord,
    pub guild: FakeGuild,
    pub alice: FakeUser,
    pub channel: FakeChannel,
    /// IDENTIFYs and RESUMEs seen when the bot was last started.
    sessions_before: usize,
}

impl DiscordWorld {
    pub async fn start(setup: &DiscordSetup) -> DiscordWorld {
        let fake = FakeDiscord::start(setup.fake.clone()).await;
        let guild = fake.guild("switchboard-test");
        let alice = fake.user("alice");
        fake.add_member(&guild, &alice, &[]);
        let channel = fake.text_channel(&guild, "dev");
        DiscordWorld {
            fake,
            guild,
            alice,
            channel,
            sessions_before: 0,
        }
    }

    /// The `[discord]` table of the bot's config.
    pub fn config_toml(&self) -> String {
        format!(
            "[discord]\napi_url = \"{api}\"\nallowed_users = [\"{alice}\"]\n",
            api = self.fake.api_url(),
            alice = self.alice.id,
        )
    }

    /// The secrets, in the environment as in production.
    pub fn env(&self, cmd: &mut Command) {
        cmd.env("DISCORD_BOT_TOKEN", self.fake.token());
    }

    /// Called just before the bot starts.
    pub fn bot_starting(&mut self) {
        let gateway = self.fake.gateway();
        self.sessions_before = gateway.identifies.len() + gateway.resumes.len();
    }

    /// Waits until the bot is connected to the gateway with a new IDENTIFY or RESUME.
    pub async fn bot_started(&self) {
        let before = self.sessions_before;
        let found = self
            .fake
            .wait_for(WAIT, |f| {
                let gateway = f.gateway();
                (gateway.identifies.len() + gateway.resumes.len() > before).then_some(())
            })
            .await;
        assert!(found.is_some(), "the bot did not connect to the gateway");
    }

    /// Fails if the bot made a call inside a rate-limit window.
    pub fn assert_no_violations(&self) {
        let violations = self.fake.violations();
        assert!(
            violations.is_empty(),
            "Discord rate-limit violations: {violations:#?}"
        );
    }
}
