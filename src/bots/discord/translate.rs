//! Discord messages and interactions → core inbound events.
//!
//! Threads are sessions. A message in a guild text channel that mentions the bot (`<@ID>` or
//! the older `<@!ID>`) starts a thread from itself — Discord gives that thread the message's id
//! — so its thread is `{chat: channel, topic: message id}` before the thread even exists (the
//! outlet creates it when it first posts there). A message inside a thread has the thread as
//! its channel; its thread is `{chat: the thread's parent channel, topic: the thread}`, which
//! is the same pair. Such a message is for the bot when it mentions the bot, or else only when
//! the thread is a session, which the intake checks in the store. In a DM every message is for
//! the bot, and the DM channel is one thread.
//!
//! Where a message is (DM, channel, thread and its parent) is decided by the intake, which
//! knows the channels; this module is pure.
//!
//! What is never read: the bot's own messages, other bots' and webhooks' (unless allowed),
//! edits and deletions (other events), system messages (joins, pins, thread starters: only
//! types 0, default, and 19, reply, are requests).
//!
//! A message that is exactly a command after the mention (`new [project] [host]`, `status`,
//! `stop [all]`, `sessions`, `help`) is that command; anything else is a prompt, so "help me
//! with the tests" reaches the agent. Slash commands map onto the same commands.
//!
//! A slash command's answer goes back through the interaction (a deferred response filled in
//! later), so its event's `message_id` names the interaction: `interaction:<id>:<token>` — see
//! [`InteractionRef`]. The token is the interaction's own short-lived webhook credential
//! (fifteen minutes, for this one interaction); it is stored with the event so the answer
//! survives a restart.

use serde_json::json;

use super::payload::{Interaction, Message, is_thread};
use crate::domain::agent::AgentKind;
use crate::domain::command::{Command, CommandError, parse};
use crate::domain::controls::ButtonAction;
use crate::domain::inbound::{
    FileKind, Inbound, InboundBody, IncomingFile, Invalid, after_addressing,
};
use crate::domain::thread::{Author, Platform, ThreadRef};

/// Who the bot is, and whose messages it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscordMe {
    /// The bot user's id: what a mention of it looks like.
    pub user_id: String,
    pub application_id: String,
    /// Other bots whose messages are read like a person's.
    pub allowed_bots: Vec<String>,
}

/// Where a message was sent, as the intake found out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A direct message channel.
    Dm,
    /// A guild channel's top level.
    Channel,
    /// A thread of the guild channel `parent`.
    Thread { parent: String },
}

/// An event for the bot, and whether it counts only in a thread that has a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addressed {
    /// A mention, a DM: for the bot.
    Directly(Inbound),
    /// A thread message without a mention: for the bot if the thread is a session.
    IfSession(Inbound),
}

/// Whether a message could be a request at all, before anything is looked up for it: a person's
/// (or an allowed bot's) plain message or reply.
pub fn worth_reading(message: &Message, me: &DiscordMe) -> bool {
    if !matches!(message.kind, 0 | 19) || message.author.id == me.user_id {
        return false;
    }
    let allowed = me.allowed_bots.contains(&message.author.id);
    if (message.author.bot || message.webhook_id.is_some()) && !allowed {
        return false;
    }
    true
}

/// The core event for a message, or `None` when it is not for the bot.
pub fn translate_message(message: &Message, place: &Place, me: &DiscordMe) -> Option<Addressed> {
    if !worth_reading(message, me) {
        return None;
    }
    let mentions = [format!("<@{}>", me.user_id), format!("<@!{}>", me.user_id)];
    let mentioned = mentions.iter().any(|m| message.content.contains(m));
    let thread = |chat: &str, topic: Option<&str>| ThreadRef {
        platform: Platform::Discord,
        chat: chat.to_owned(),
        topic: topic.map(str::to_owned),
    };
    let (thread, direct) = match place {
        Place::Dm => (thread(&message.channel_id, None), true),
        Place::Channel if mentioned => (thread(&message.channel_id, Some(&message.id)), true),
        Place::Channel => return None,
        Place::Thread { parent } => (thread(parent, Some(&message.channel_id)), mentioned),
    };
    // Only the mention that addresses the bot, at the start, is not the user's request.
    let content = message.content.as_str();
    let request = mentions
        .iter()
        .find_map(|m| content.strip_prefix(m.as_str()))
        .map_or(content, after_addressing);
    let voice_message = message.flags & Message::IS_VOICE_MESSAGE != 0;
    let files: Vec<IncomingFile> = message
        .attachments
        .iter()
        .map(|a| IncomingFile {
            name: a.filename.clone(),
            size: a.size,
            source: a.url.clone(),
            kind: match voice_message {
                true => FileKind::Audio,
                false => FileKind::of_media_type(a.content_type.as_deref()),
            },
        })
        .collect();
    let body = InboundBody::of_mention_with(request, &files);
    let inbound = Inbound {
        external_id: message_key(&message.id),
        thread,
        author: Author {
            id: message.author.id.clone(),
            display: message.author.display(),
        },
        message_id: Some(message.id.clone()),
        body,
        files,
        context: Some(context(
            message.guild_id.as_deref(),
            message.member.as_ref().map(|m| m.roles.as_slice()),
        )),
    };
    Some(if direct {
        Addressed::Directly(inbound)
    } else {
        Addressed::IfSession(inbound)
    })
}

/// The stored event key of a message (Discord message ids are unique across channels).
pub fn message_key(message_id: &str) -> String {
    format!("msg:{message_id}")
}

/// What the policy's allowlists need: the guild and the author's roles in it.
fn context(guild: Option<&str>, roles: Option<&[String]>) -> serde_json::Value {
    json!({
        "guild": guild,
        "roles": roles.unwrap_or_default(),
    })
}

/// The name of a thread started for a request: its first line, within Discord's 100
/// characters.
pub fn thread_name(inbound: &Inbound) -> String {
    let text = match &inbound.body {
        InboundBody::Prompt { text } => text.as_str(),
        _ => "",
    };
    let line = text.lines().map(str::trim).find(|l| !l.is_empty());
    match line {
        Some(line) if line.chars().count() > 100 => {
            let cut: String = line.chars().take(99).collect();
            format!("{cut}…")
        }
        Some(line) => line.to_owned(),
        None => "Switchboard".to_owned(),
    }
}

/// The thread an interaction happened in: a thread's parent and the thread, or the channel.
fn interaction_thread(interaction: &Interaction) -> Option<ThreadRef> {
    let channel_id = interaction
        .channel_id
        .as_deref()
        .or(interaction.channel.as_ref().map(|c| c.id.as_str()))?;
    Some(match &interaction.channel {
        Some(c) if is_thread(c.kind) && c.parent_id.is_some() => ThreadRef {
            platform: Platform::Discord,
            chat: c.parent_id.clone().unwrap_or_default(),
            topic: Some(channel_id.to_owned()),
        },
        _ => ThreadRef {
            platform: Platform::Discord,
            chat: channel_id.to_owned(),
            topic: None,
        },
    })
}

/// The key of a press's `context` that holds its interaction (`id`, `token`): what the press is
/// answered through.
pub const PRESS_INTERACTION: &str = "press";

/// A press of one of the bot's buttons (a component interaction) → the press, deduplicated on
/// the interaction's id; its `message_id` is the message the button is under (not the
/// interaction, which answers the press only). `None` for a button under someone else's message
/// or that is no button of ours.
pub fn translate_press(interaction: &Interaction, me: &DiscordMe) -> Option<Inbound> {
    if interaction.kind != 3 {
        return None;
    }
    let message = interaction.message.as_ref()?;
    if message.author.as_ref().map(|a| a.id.as_str()) != Some(me.user_id.as_str()) {
        return None;
    }
    let custom_id = interaction.data.as_ref()?.custom_id.as_deref()?;
    let action = ButtonAction::decode(custom_id)?;
    let author = interaction.author()?;
    let mut context = context(
        interaction.guild_id.as_deref(),
        interaction.member.as_ref().map(|m| m.roles.as_slice()),
    );
    context[PRESS_INTERACTION] = json!({ "id": interaction.id, "token": interaction.token });
    Some(Inbound {
        external_id: format!("interaction:{}", interaction.id),
        thread: interaction_thread(interaction)?,
        author: Author {
            id: author.id.clone(),
            display: author.display(),
        },
        message_id: Some(message.id.clone()),
        body: InboundBody::Press(action),
        files: Vec::new(),
        context: Some(context),
    })
}

/// An interaction a reply goes back through: `interaction:<id>:<token>` in `message_id` and
/// `reply_to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InteractionRef<'a> {
    pub id: &'a str,
    pub token: &'a str,
}

impl<'a> InteractionRef<'a> {
    const PREFIX: &'static str = "interaction:";

    pub fn encode(id: &str, token: &str) -> String {
        format!("{}{id}:{token}", Self::PREFIX)
    }

    /// The interaction a `message_id` names, if it names one.
    pub fn parse(message_id: &'a str) -> Option<InteractionRef<'a>> {
        let (id, token) = message_id.strip_prefix(Self::PREFIX)?.split_once(':')?;
        Some(InteractionRef { id, token })
    }
}

/// The core event for a slash command, or `None` for other interactions. `parent` is the
/// thread's parent channel when the command was used in a thread the interaction does not
/// describe fully.
pub fn translate_interaction(interaction: &Interaction) -> Option<Inbound> {
    if interaction.kind != 2 {
        return None;
    }
    let data = interaction.data.as_ref()?;
    let author = interaction.author()?;
    let thread = interaction_thread(interaction)?;
    let option = |name: &str| data.options.iter().find(|o| o.name == name);
    let body = match data.name.as_str() {
        "new" => {
            let text = |name: &str| {
                option(name)
                    .and_then(|o| o.value.as_str())
                    .map(str::trim)
                    .filter(|h| !h.is_empty())
                    .map(str::to_owned)
            };
            match text("agent").map(|name| name.parse::<AgentKind>().map_err(|e| e.0)) {
                Some(Err(name)) => {
                    InboundBody::Invalid(Invalid::Command(CommandError::NotAnAgent(name)))
                }
                agent => InboundBody::Command(Command::New {
                    target: text("project"),
                    host: text("host"),
                    agent: agent.and_then(Result::ok),
                }),
            }
        }
        // Parsed like typed commands, so a name Discord's choices did not offer (an old
        // registration) or a bad model's gets the same answer.
        "agent" | "model" => {
            let name = option("name").and_then(|o| o.value.as_str()).unwrap_or("");
            match parse(&data.name, name) {
                Ok(command) => InboundBody::Command(command),
                Err(e) => InboundBody::Invalid(Invalid::Command(e)),
            }
        }
        "status" => InboundBody::Command(Command::Status),
        "stop" => InboundBody::Command(Command::Stop {
            all: option("all").and_then(|o| o.value.as_bool()) == Some(true),
        }),
        "sessions" => InboundBody::Command(Command::Sessions),
        "projects" => InboundBody::Command(Command::Projects),
        // Parsed like a typed command, so a URL that is not a web address gets the usage.
        "screenshot" => {
            let url = option("url").and_then(|o| o.value.as_str()).unwrap_or("");
            match parse("screenshot", url) {
                Ok(command) => InboundBody::Command(command),
                Err(e) => InboundBody::Invalid(Invalid::Command(e)),
            }
        }
        // Parsed like typed commands: the options become `"cron" tz=zone prompt`, `id`.
        "schedule" | "unschedule" => {
            let text = |name| option(name).and_then(|o| o.value.as_str()).unwrap_or("");
            let args = match data.name.as_str() {
                "schedule" if text("tz").is_empty() => {
                    format!("\"{}\" {}", text("cron"), text("prompt"))
                }
                "schedule" => format!("\"{}\" tz={} {}", text("cron"), text("tz"), text("prompt")),
                _ => text("id").to_owned(),
            };
            match parse(&data.name, &args) {
                Ok(command) => InboundBody::Command(command),
                Err(e) => InboundBody::Invalid(Invalid::Command(e)),
            }
        }
        "schedules" => InboundBody::Command(Command::Schedules),
        "help" => InboundBody::Command(Command::Help),
        other => InboundBody::Invalid(Invalid::Command(CommandError::Unknown(other.to_owned()))),
    };
    Some(Inbound {
        external_id: format!("interaction:{}", interaction.id),
        thread,
        author: Author {
            id: author.id.clone(),
            display: author.display(),
        },
        message_id: Some(InteractionRef::encode(&interaction.id, &interaction.token)),
        body,
        files: Vec::new(),
        context: Some(context(
            interaction.guild_id.as_deref(),
            interaction.member.as_ref().map(|m| m.roles.as_slice()),
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bots::discord::payload::{
        Channel, CommandData, CommandOption, Frame, MessageAttachment, User,
    };

    fn me() -> DiscordMe {
        DiscordMe {
            user_id: "900".into(),
            application_id: "900".into(),
            allowed_bots: vec!["950".into()],
        }
    }

    fn message(content: &str, id: &str, channel: &str) -> Message {
        Message {
            id: id.into(),
            channel_id: channel.into(),
            guild_id: Some("1".into()),
            author: User {
                id: "10".into(),
                username: "alice".into(),
                global_name: Some("Alice".into()),
                bot: false,
            },
            content: content.into(),
            ..Message::default()
        }
    }

    fn direct(a: Option<Addressed>) -> Inbound {
        match a {
            Some(Addressed::Directly(inbound)) => inbound,
            other => panic!("expected a direct event, got {other:?}"),
        }
    }

    /// Audio attachments and voice messages (their flag) are for a transcript; other files
    /// for the inbox.
    #[test]
    fn audio_attachments_and_voice_messages_are_audio() {
        let attachment = |filename: &str, content_type: Option<&str>| MessageAttachment {
            filename: filename.into(),
            size: Some(10),
            url: format!("https://cdn.discordapp.com/attachments/1/2/{filename}"),
            content_type: content_type.map(str::to_owned),
        };
        let kinds = |m: &Message| -> Vec<FileKind> {
            let inbound = direct(translate_message(m, &Place::Dm, &me()));
            inbound.files.iter().map(|f| f.kind).collect()
        };
        let mut m = message("", "502", "30");
        m.attachments = vec![
            attachment("memo.mp3", Some("audio/mpeg")),
            attachment("log.txt", Some("text/plain; charset=utf-8")),
            attachment("blob", None),
        ];
        assert_eq!(
            kinds(&m),
            [FileKind::Audio, FileKind::Attachment, FileKind::Attachment]
        );
        m.attachments = vec![attachment("voice-message.ogg", None)];
        m.flags = Message::IS_VOICE_MESSAGE;
        assert_eq!(kinds(&m), [FileKind::Audio]);
    }

    #[test]
    fn only_the_leading_mention_is_removed_and_the_prompt_is_kept_as_written() {
        let prompt = |content: &str| {
            let m = message(content, "500", "20");
            match direct(translate_message(&m, &Place::Channel, &me())).body {
                InboundBody::Prompt { text } => text,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(
            prompt("<@900>\n    fn main() {}\n  "),
            "    fn main() {}\n  "
        );
        assert_eq!(prompt("<@!900>  ask <@900> again"), "ask <@900> again");
        assert_eq!(prompt("please <@900>, look"), "please <@900>, look");
        let dm = message("  indented\n", "501", "30");
        assert_eq!(
            direct(translate_message(&dm, &Place::Dm, &me())).body,
            InboundBody::Prompt {
                text: "  indented\n".into()
            }
        );
    }

    #[test]
    fn a_channel_mention_starts_a_thread_from_itself() {
        let m = message("<@900> fix the tests", "500", "20");
        let inbound = direct(translate_message(&m, &Place::Channel, &me()));
        assert_eq!(inbound.thread.chat, "20");
        assert_eq!(inbound.thread.topic.as_deref(), Some("500"));
        assert_eq!(inbound.external_id, "msg:500");
        assert_eq!(inbound.message_id.as_deref(), Some("500"));
        assert_eq!(inbound.author.display, "Alice");
        assert_eq!(
            inbound.body,
            InboundBody::Prompt {
                text: "fix the tests".into()
            }
        );
        assert_eq!(thread_name(&inbound), "fix the tests");
        // The legacy nickname form is a mention too; chatter is not for the bot.
        let legacy = message("<@!900> hi", "501", "20");
        assert!(translate_message(&legacy, &Place::Channel, &me()).is_some());
        let chatter = message("lunch?", "502", "20");
        assert_eq!(translate_message(&chatter, &Place::Channel, &me()), None);
        let other_mention = message("<@901> lunch?", "503", "20");
        assert_eq!(
            translate_message(&other_mention, &Place::Channel, &me()),
            None
        );
    }

    #[test]
    fn thread_messages_need_a_session_unless_they_mention_the_bot() {
        let place = Place::Thread {
            parent: "20".into(),
        };
        let reply = message("and the docs", "600", "500");
        match translate_message(&reply, &place, &me()) {
            Some(Addressed::IfSession(inbound)) => {
                assert_eq!(inbound.thread.chat, "20");
                assert_eq!(inbound.thread.topic.as_deref(), Some("500"));
            }
            other => panic!("{other:?}"),
        }
        let mention = message("<@900> and the docs", "601", "500");
        let inbound = direct(translate_message(&mention, &place, &me()));
        assert_eq!(inbound.thread.topic.as_deref(), Some("500"));
        // Newlines survive: the agent gets the text as typed.
        let multi = message("<@900> line one\nline two", "602", "500");
        assert_eq!(
            direct(translate_message(&multi, &place, &me())).body,
            InboundBody::Prompt {
                text: "line one\nline two".into()
            }
        );
    }

    #[test]
    fn direct_messages_are_always_for_the_bot() {
        let mut m = message("hi", "700", "30");
        m.guild_id = None;
        let inbound = direct(translate_message(&m, &Place::Dm, &me()));
        assert_eq!(inbound.thread.chat, "30");
        assert_eq!(inbound.thread.topic, None);
        assert_eq!(inbound.context, Some(json!({"guild": null, "roles": []})));
    }

    #[test]
    fn bots_webhooks_and_system_messages_are_ignored() {
        let mut own = message("my answer", "800", "30");
        own.author.id = "900".into();
        own.author.bot = true;
        assert_eq!(translate_message(&own, &Place::Dm, &me()), None);
        let mut stranger = message("x", "801", "30");
        stranger.author.bot = true;
        stranger.author.id = "951".into();
        assert_eq!(translate_message(&stranger, &Place::Dm, &me()), None);
        let mut friend = stranger.clone();
        friend.author.id = "950".into();
        assert!(translate_message(&friend, &Place::Dm, &me()).is_some());
        let mut hook = message("x", "802", "30");
        hook.webhook_id = Some("77".into());
        assert_eq!(translate_message(&hook, &Place::Dm, &me()), None);
        for kind in [7, 18, 20, 21] {
            let mut system = message("<@900> x", "803", "20");
            system.kind = kind;
            assert_eq!(
                translate_message(&system, &Place::Channel, &me()),
                None,
                "type {kind}"
            );
        }
        let mut reply = message("<@900> x", "804", "20");
        reply.kind = 19;
        assert!(translate_message(&reply, &Place::Channel, &me()).is_some());
    }

    #[test]
    fn exact_commands_are_commands_and_the_rest_prompts() {
        let cases = [
            (
                "<@900> new devbox",
                InboundBody::Command(Command::New {
                    target: Some("devbox".into()),
                    host: None,
                    agent: None,
                }),
            ),
            (
                "<@900> stop all",
                InboundBody::Command(Command::Stop { all: true }),
            ),
            ("<@900>  status ", InboundBody::Command(Command::Status)),
            ("<@900> sessions", InboundBody::Command(Command::Sessions)),
            ("<@900> help", InboundBody::Command(Command::Help)),
            (
                "<@900> help me with the tests",
                InboundBody::Prompt {
                    text: "help me with the tests".into(),
                },
            ),
            (
                "<@900> stop the server crashing",
                InboundBody::Prompt {
                    text: "stop the server crashing".into(),
                },
            ),
            ("<@900>", InboundBody::Invalid(Invalid::EmptyMention)),
        ];
        for (text, expected) in cases {
            let m = message(text, "1", "20");
            assert_eq!(
                direct(translate_message(&m, &Place::Channel, &me())).body,
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn thread_names_are_the_first_line_within_discords_limit() {
        let m = message(&format!("<@900> \n{}\nmore", "x".repeat(150)), "1", "20");
        let inbound = direct(translate_message(&m, &Place::Channel, &me()));
        let name = thread_name(&inbound);
        assert_eq!(name.chars().count(), 100);
        assert!(name.ends_with('…'));
        let status = direct(translate_message(
            &message("<@900> status", "2", "20"),
            &Place::Channel,
            &me(),
        ));
        assert_eq!(thread_name(&status), "Switchboard");
    }

    fn interaction(
        name: &str,
        options: Vec<CommandOption>,
        channel: Option<Channel>,
    ) -> Interaction {
        Interaction {
            id: "42".into(),
            kind: 2,
            token: "tok:en".into(),
            application_id: Some("900".into()),
            guild_id: Some("1".into()),
            channel_id: Some("20".into()),
            channel,
            member: Some(crate::bots::discord::payload::Member {
                roles: vec!["77".into()],
                user: Some(User {
                    id: "10".into(),
                    username: "alice".into(),
                    global_name: None,
                    bot: false,
                }),
            }),
            user: None,
            data: Some(CommandData {
                name: name.into(),
                options,
                custom_id: None,
            }),
            message: None,
        }
    }

    #[test]
    fn slash_commands_map_onto_the_commands() {
        let option = |name: &str, value: serde_json::Value| CommandOption {
            name: name.into(),
            value,
        };
        let stop =
            translate_interaction(&interaction("stop", vec![option("all", json!(true))], None))
                .unwrap();
        assert_eq!(stop.body, InboundBody::Command(Command::Stop { all: true }));
        assert_eq!(stop.external_id, "interaction:42");
        assert_eq!(stop.thread.chat, "20");
        assert_eq!(stop.thread.topic, None);
        assert_eq!(stop.author.display, "alice");
        assert_eq!(stop.context, Some(json!({"guild": "1", "roles": ["77"]})));
        let reference = stop.message_id.as_deref().unwrap();
        assert_eq!(
            InteractionRef::parse(reference),
            Some(InteractionRef {
                id: "42",
                token: "tok:en"
            })
        );
        assert_eq!(InteractionRef::parse("12345"), None);

        let new = translate_interaction(&interaction(
            "new",
            vec![option("host", json!("devbox"))],
            None,
        ))
        .unwrap();
        assert_eq!(
            new.body,
            InboundBody::Command(Command::New {
                target: None,
                host: Some("devbox".into()),
                agent: None,
            })
        );
        for (name, command) in [
            ("status", Command::Status),
            ("sessions", Command::Sessions),
            ("projects", Command::Projects),
            ("help", Command::Help),
            (
                "new",
                Command::New {
                    target: None,
                    host: None,
                    agent: None,
                },
            ),
            ("stop", Command::Stop { all: false }),
        ] {
            let inbound = translate_interaction(&interaction(name, vec![], None)).unwrap();
            assert_eq!(inbound.body, InboundBody::Command(command), "{name}");
        }
        let unknown = translate_interaction(&interaction("frob", vec![], None)).unwrap();
        assert!(matches!(unknown.body, InboundBody::Invalid(_)));

        let schedule = |options| translate_interaction(&interaction("schedule", options, None));
        let zoned = schedule(vec![
            option("cron", json!("0 9 * * 1-5")),
            option("prompt", json!("run the checks")),
            option("tz", json!("Europe/Berlin")),
        ]);
        assert_eq!(
            zoned.unwrap().body,
            InboundBody::Command(Command::Schedule {
                cron: "0 9 * * 1-5".into(),
                time_zone: Some("Europe/Berlin".into()),
                prompt: "run the checks".into(),
            })
        );
        let bad = schedule(vec![
            option("cron", json!("0 9")),
            option("prompt", json!("x")),
        ]);
        assert!(
            matches!(
                bad.unwrap().body,
                InboundBody::Invalid(Invalid::Command(CommandError::BadSchedule(_)))
            ),
            "a wrong expression says the form"
        );
        let unschedule = translate_interaction(&interaction(
            "unschedule",
            vec![option("id", json!("s-1a2b3c"))],
            None,
        ));
        assert_eq!(
            unschedule.unwrap().body,
            InboundBody::Command(Command::Unschedule {
                id: "s-1a2b3c".into()
            })
        );

        // In a thread, the thread is the topic of its parent channel.
        let thread = Channel {
            id: "500".into(),
            kind: 11,
            guild_id: Some("1".into()),
            parent_id: Some("20".into()),
        };
        let mut i = interaction("status", vec![], Some(thread));
        i.channel_id = Some("500".into());
        let inbound = translate_interaction(&i).unwrap();
        assert_eq!(inbound.thread.chat, "20");
        assert_eq!(inbound.thread.topic.as_deref(), Some("500"));

        let mut ping = interaction("status", vec![], None);
        ping.kind = 1;
        assert_eq!(translate_interaction(&ping), None);
    }

    fn fixture(name: &str) -> serde_json::Value {
        let path = format!(
            "{}/tests/fixtures/discord/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    /// Every fixture parses into what the bot reads, and the ones that are not requests
    /// translate to nothing.
    #[test]
    fn every_fixture_parses() {
        let dir = format!("{}/tests/fixtures/discord", env!("CARGO_MANIFEST_DIR"));
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.ends_with(".json") {
                continue;
            }
            seen += 1;
            let v = fixture(&name);
            if name.starts_with("gateway_") {
                let frame: Frame = serde_json::from_value(v).expect(&name);
                match frame.t.as_deref() {
                    Some("MESSAGE_CREATE") => {
                        let m: Message = serde_json::from_value(frame.d).expect(&name);
                        assert_eq!(m.content, "blah bljhshADh blah");
                        assert_eq!(m.member.unwrap().roles, ["431921695524126722"]);
                    }
                    Some("READY") => {
                        let r: crate::bots::discord::payload::Ready =
                            serde_json::from_value(frame.d).expect(&name);
                        assert_eq!(r.session_id, "bf8eb88e4939e52df093261f3abbc638");
                        assert!(r.resume_gateway_url.starts_with("wss://"));
                    }
                    Some("GUILD_CREATE") => {
                        let g: crate::bots::discord::payload::GuildCreate =
                            serde_json::from_value(frame.d).expect(&name);
                        assert!(!g.channels.is_empty());
                    }
                    Some(_) | None => {}
                }
            }
        }
        assert!(seen >= 16, "{seen} fixtures");
    }

    #[test]
    fn the_real_message_shapes_translate_as_expected() {
        let frame: Frame =
            serde_json::from_value(fixture("gateway_message_create_guild.json")).unwrap();
        let m: Message = serde_json::from_value(frame.d).unwrap();
        // No mention of the bot at a channel's top level: chatter.
        assert_eq!(translate_message(&m, &Place::Channel, &me()), None);
        // The same message inside a session thread continues it.
        let place = Place::Thread { parent: "1".into() };
        match translate_message(&m, &place, &me()) {
            Some(Addressed::IfSession(inbound)) => {
                assert_eq!(inbound.author.display, "GoodUser");
                assert_eq!(inbound.external_id, "msg:1028029980795478046");
            }
            other => panic!("{other:?}"),
        }
        // Another bot's message (v6 era: numeric nonce, no flags) is ignored.
        let bot: Message =
            serde_json::from_value(fixture("object_message_create_bot_v6.json")).unwrap();
        assert!(bot.author.bot);
        assert_eq!(translate_message(&bot, &Place::Dm, &me()), None);
        // An edit is another event (MESSAGE_UPDATE): the gateway never hands it here, but its
        // shape parses.
        let edit: Message =
            serde_json::from_value(fixture("object_message_update_v6.json")).unwrap();
        assert_eq!(edit.content, "b");
        // A thread channel, as THREAD_CREATE carries it.
        let thread: Channel =
            serde_json::from_value(fixture("object_thread_channel.json")).unwrap();
        assert!(is_thread(thread.kind));
        assert!(thread.parent_id.is_some());
        // A slash command of someone else's app: an unknown command, still an event.
        let i: Interaction =
            serde_json::from_value(fixture("object_interaction_slash_guild.json")).unwrap();
        let inbound = translate_interaction(&i).unwrap();
        assert_eq!(inbound.author.id, "53908232506183680");
        assert!(matches!(inbound.body, InboundBody::Invalid(_)));
        assert_eq!(
            inbound.context,
            Some(json!({"guild": "290926798626357999", "roles": ["539082325061836999"]}))
        );
    }
}
