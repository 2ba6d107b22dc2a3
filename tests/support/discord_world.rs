//! Discord in the harness: a fake Discord the bot is installed in, Alice (allowed) in a guild
//! with a text channel the bot can read. The bot connects to the fake's gateway, calls its REST
//! API, and registers its slash commands in the guild.

use std::process::Command;

use super::fake_discord::{
    FakeChannel, FakeDiscord, FakeDiscordConfig, FakeGuild, FakeUser, MessageState,
};
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
    /// The bot's user.
    pub bot: FakeUser,
    /// A text channel of the guild.
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
        let bot = fake.bot_user();
        DiscordWorld {
            fake,
            guild,
            alice,
            bot,
            channel,
            sessions_before: 0,
        }
    }

    /// The `[discord]` table of the bot's config.
    pub fn config_toml(&self) -> String {
        format!(
            "[discord]\napi_url = \"{api}\"\nallowed_users = [\"{alice}\"]\n\
             command_guilds = [\"{guild}\"]\n",
            api = self.fake.api_url(),
            alice = self.alice.id,
            guild = self.guild.id,
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

    /// Waits until the bot is connected to the gateway with a new IDENTIFY or RESUME, and its
    /// session is live.
    pub async fn bot_started(&self) {
        let before = self.sessions_before;
        let found = self
            .fake
            .wait_for(WAIT, |f| {
                let gateway = f.gateway();
                (gateway.identifies.len() + gateway.resumes.len() > before
                    && gateway.sessions.iter().any(|s| s.connected))
                .then_some(())
            })
            .await;
        assert!(found.is_some(), "the bot did not connect to the gateway");
    }

    /// `user` mentions the bot in the channel with `text`.
    pub fn mention_by(&self, user: &FakeUser, text: &str) -> MessageState {
        self.fake.user_says(
            &self.channel,
            user,
            &format!("{} {text}", self.bot.mention()),
        )
    }

    /// Alice mentions the bot in the channel with `text`.
    pub fn mention(&self, text: &str) -> MessageState {
        self.mention_by(&self.alice, text)
    }

    /// Waits for the thread started from `message` and returns its channel.
    pub async fn thread_of(&self, message: &MessageState) -> FakeChannel {
        self.fake
            .wait_for_thread(|t| t.from_message.as_deref() == Some(&message.id), WAIT)
            .await
            .channel
    }

    /// Waits until a bot message in `channel` shows text containing `needle`.
    pub async fn wait_text(&self, channel: &FakeChannel, needle: &str) -> MessageState {
        self.fake
            .wait_for_bot_message(channel, |m| m.content.contains(needle), WAIT)
            .await
    }

    /// Waits for the bot's reaction `emoji` on a message of `channel`.
    pub async fn wait_reaction(&self, channel: &FakeChannel, message: &MessageState, emoji: &str) {
        self.fake
            .wait_for_reaction(channel, &message.id, emoji, WAIT)
            .await;
    }

    /// The current texts of the bot's messages in `channel`, oldest first.
    pub fn bot_texts(&self, channel: &FakeChannel) -> Vec<String> {
        self.fake
            .bot_messages(channel)
            .into_iter()
            .filter(|m| !m.deleted)
            .map(|m| m.content)
            .collect()
    }

    /// Fails if the bot made a call inside a rate-limit window, or answered an interaction
    /// late.
    pub fn assert_no_violations(&self) {
        let violations = self.fake.violations();
        assert!(
            violations.is_empty(),
            "Discord rate-limit violations: {violations:#?}"
        );
    }
}
