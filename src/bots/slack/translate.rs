//! Slack events → core inbound events.
//!
//! Threads are sessions. A channel message that mentions the bot starts a thread under itself
//! (the thread's `ts` is the message's own), and later messages in that thread continue it
//! without a mention — but only once the thread has a session, which the intake checks in the
//! store, so unrelated threads are never stored. In a direct message every message is for the
//! bot: the conversation's top level is one thread, each of its threads another.
//!
//! Slack sends one message twice to an app subscribed to both `app_mention` and `message.*`
//! (two event ids), and retries deliveries; the event's key is the message itself
//! (`channel` + `ts`), so every copy lands on the same stored event.
//!
//! What is never read: the bot's own messages, other bots' (unless allowed), edits and
//! deletions (`message_changed`, `message_deleted`), joins and other subtypes. Messages with
//! files (`file_share`) are read, their files handed to the agent's inbox.
//!
//! A message that is exactly a command (`new [project] [host]`, `status`, `stop [all]`, `sessions`,
//! `help`, after the mention) is that command; anything else is a prompt, so "help me with the
//! tests" reaches the agent.

use serde_json::json;

use super::payload::{Event, Interaction, SlashCommand};
use crate::domain::command::{self, Command};
use crate::domain::controls::ButtonAction;
use crate::domain::inbound::{
    FileKind, Inbound, InboundBody, IncomingFile, Invalid, after_addressing,
};
use crate::domain::thread::{Author, Platform, ThreadRef};

/// Who the bot is, and whose messages it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackMe {
    pub team_id: String,
    pub user_id: String,
    pub bot_id: String,
    /// Other bots whose messages are read like a person's.
    pub allowed_bots: Vec<String>,
}

/// An event for the bot, and whether it counts only in a thread that has a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addressed {
    /// A mention, a direct message: for the bot.
    Directly(Inbound),
    /// A reply in a channel thread without a mention: for the bot if the thread is a session.
    IfSession(Inbound),
}

/// The core event for a message event, or `None` when it is not for the bot.
pub fn translate_event(team_id: &str, event: &Event, me: &SlackMe) -> Option<Addressed> {
    if !matches!(event.kind.as_str(), "message" | "app_mention") {
        return None;
    }
    // Only plain messages (with files, or broadcast from a thread) are requests.
    if event
        .subtype
        .as_deref()
        .is_some_and(|s| !matches!(s, "thread_broadcast" | "file_share"))
    {
        return None;
    }
    if let Some(bot) = &event.bot_id
        && (*bot == me.bot_id || !me.allowed_bots.contains(bot))
    {
        return None;
    }
    let user = event.user.as_deref()?;
    if user == me.user_id {
        return None;
    }
    let (channel, ts) = (event.channel.as_deref()?, event.ts.as_deref()?);
    let text = event.text.as_deref().unwrap_or_default();
    let mention = format!("<@{}>", me.user_id);
    let mentioned = event.kind == "app_mention" || text.contains(&mention);
    let direct = event.channel_type.as_deref() == Some("im");
    let reply = event.thread_ts.as_deref().filter(|t| *t != ts);
    let topic = match (direct, reply) {
        (true, reply) => reply.map(str::to_owned),
        (false, Some(thread)) => Some(thread.to_owned()),
        // A mention at a channel's top level starts a thread under itself.
        (false, None) if mentioned => Some(ts.to_owned()),
        (false, None) => return None,
    };
    // Only the mention that addresses the bot, at the start, is not the user's request.
    let request = readable(text.strip_prefix(&mention).map_or(text, after_addressing));
    let files: Vec<IncomingFile> = event
        .files
        .iter()
        .filter_map(|f| {
            Some(IncomingFile {
                name: f.name.clone().unwrap_or_else(|| "file".to_owned()),
                size: f.size,
                source: f.url_private_download.clone()?,
                kind: FileKind::of_media_type(f.mimetype.as_deref()),
            })
        })
        .collect();
    let body = InboundBody::of_mention_with(&request, &files);
    let inbound = Inbound {
        external_id: message_key(channel, ts),
        thread: ThreadRef {
            platform: Platform::Slack,
            chat: channel.to_owned(),
            topic,
        },
        author: Author {
            id: user.to_owned(),
            display: format!("<@{user}>"),
        },
        message_id: Some(ts.to_owned()),
        body,
        files,
        context: Some(json!({
            "team": event.user_team.as_deref().or(event.team.as_deref()).unwrap_or(team_id),
        })),
    };
    Some(if direct || mentioned {
        Addressed::Directly(inbound)
    } else {
        Addressed::IfSession(inbound)
    })
}

/// The stored event key of a message: the message itself, whichever event carried it.
pub fn message_key(channel: &str, ts: &str) -> String {
    format!("msg:{channel}:{ts}")
}

/// The core event for a slash command (`/switchboard status`): commands only, for the
/// channel's top level (Slack does not say which thread a slash command was typed in).
pub fn translate_command(command: &SlashCommand) -> Inbound {
    let text = command.text.trim();
    let (name, args) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let body = if name.is_empty() {
        InboundBody::Command(Command::Help)
    } else {
        match command::parse(name, args) {
            Ok(parsed) => InboundBody::Command(parsed),
            Err(e) => InboundBody::Invalid(Invalid::Command(e)),
        }
    };
    Inbound {
        external_id: format!("cmd:{}", command.trigger_id),
        thread: ThreadRef {
            platform: Platform::Slack,
            chat: command.channel_id.clone(),
            topic: None,
        },
        author: Author {
            id: command.user_id.clone(),
            display: format!("<@{}>", command.user_id),
        },
        message_id: None,
        body,
        files: Vec::new(),
        context: Some(json!({ "team": command.team_id })),
    }
}

/// A press of one of the bot's buttons → the press, deduplicated on the interaction's
/// `trigger_id`. `None` for any other interaction, a press under someone else's message, or
/// an `action_id` that is no button of ours.
pub fn translate_press(interaction: &Interaction, me: &SlackMe) -> Option<Inbound> {
    if interaction.kind != "block_actions" || interaction.trigger_id.is_empty() {
        return None;
    }
    let message = interaction.message.as_ref()?;
    if message.bot_id.as_deref() != Some(me.bot_id.as_str()) {
        return None;
    }
    let [action] = interaction.actions.as_slice() else {
        return None;
    };
    let action = ButtonAction::decode(&action.action_id)?;
    let user = &interaction.user.as_ref()?.id;
    let channel = &interaction.channel.as_ref()?.id;
    Some(Inbound {
        external_id: format!("press:{}", interaction.trigger_id),
        thread: ThreadRef {
            platform: Platform::Slack,
            chat: channel.clone(),
            topic: message.thread_ts.clone().filter(|t| *t != message.ts),
        },
        author: Author {
            id: user.clone(),
            display: format!("<@{user}>"),
        },
        message_id: Some(message.ts.clone()),
        body: InboundBody::Press(action),
        files: Vec::new(),
        // As a slash command's: a workspace allowed as a whole admits its people.
        context: interaction.team.as_ref().map(|t| json!({ "team": t.id })),
    })
}

/// Slack's message text as a person reads it: links `<url|label>` as `label (url)`, the three
/// HTML entities Slack escapes decoded; user and channel references stay as they are.
pub(super) fn readable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        let Some(len) = rest[start..].find('>') else {
            break;
        };
        out.push_str(&rest[..start]);
        let inner = &rest[start + 1..start + len];
        match inner.split_once('|') {
            _ if inner.starts_with(['@', '#', '!']) => out.push_str(&rest[start..=start + len]),
            Some((url, label)) if label != url => out.push_str(&format!("{label} ({url})")),
            Some((url, _)) => out.push_str(url),
            None => out.push_str(inner),
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> SlackMe {
        SlackMe {
            team_id: "T1".into(),
            user_id: "UBOT".into(),
            bot_id: "BBOT".into(),
            allowed_bots: vec!["BFRIEND".into()],
        }
    }

    /// A press under the bot's message is a press in that message's thread, deduplicated on its
    /// trigger; a press under another app's message, or of a button that is not ours, is not.
    #[test]
    fn presses_of_the_bots_buttons_only() {
        let turn = crate::domain::ids::TurnId::generate();
        let interaction = |bot: &str, action_id: &str| {
            let payload = json!({
                "type": "block_actions",
                "team": {"id": "T1"},
                "user": {"id": "U1"},
                "channel": {"id": "C1"},
                "trigger_id": "123.456.abc",
                "message": {"ts": "5.2", "thread_ts": "5.1", "bot_id": bot},
                "actions": [{"action_id": action_id, "value": action_id}],
            });
            serde_json::from_value::<Interaction>(payload).unwrap()
        };
        let stop = ButtonAction::Stop(turn.clone()).encode();
        let press = translate_press(&interaction("BBOT", &stop), &me()).expect("a press");
        assert_eq!(press.external_id, "press:123.456.abc");
        assert_eq!(press.thread.topic.as_deref(), Some("5.1"));
        assert_eq!(press.body, InboundBody::Press(ButtonAction::Stop(turn)));
        assert_eq!(translate_press(&interaction("BOTHER", &stop), &me()), None);
        assert_eq!(
            translate_press(&interaction("BBOT", "approve"), &me()),
            None
        );
    }

    fn message(channel_type: &str, text: &str, ts: &str, thread_ts: Option<&str>) -> Event {
        Event {
            kind: "message".into(),
            user: Some("U1".into()),
            text: Some(text.into()),
            ts: Some(ts.into()),
            thread_ts: thread_ts.map(Into::into),
            channel: Some(if channel_type == "im" { "D1" } else { "C1" }.into()),
            channel_type: Some(channel_type.into()),
            ..Event::default()
        }
    }

    fn direct(a: Option<Addressed>) -> Inbound {
        match a {
            Some(Addressed::Directly(inbound)) => inbound,
            other => panic!("expected a direct event, got {other:?}"),
        }
    }

    #[test]
    fn a_channel_mention_starts_a_thread_under_itself() {
        let e = message("channel", "<@UBOT> fix the tests", "100.1", None);
        let inbound = direct(translate_event("T1", &e, &me()));
        assert_eq!(inbound.thread.chat, "C1");
        assert_eq!(inbound.thread.topic.as_deref(), Some("100.1"));
        assert_eq!(inbound.external_id, "msg:C1:100.1");
        assert_eq!(
            inbound.body,
            InboundBody::Prompt {
                text: "fix the tests".into()
            }
        );
        assert_eq!(inbound.context, Some(json!({"team": "T1"})));
        // The app_mention copy of the same message is the same event.
        let copy = Event {
            kind: "app_mention".into(),
            channel_type: None,
            ..e
        };
        assert_eq!(direct(translate_event("T1", &copy, &me())), inbound);
    }

    #[test]
    fn only_the_leading_mention_is_removed_and_the_prompt_is_kept_as_written() {
        let prompt = |text: &str| {
            let e = message("channel", text, "100.1", None);
            match direct(translate_event("T1", &e, &me())).body {
                InboundBody::Prompt { text } => text,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(
            prompt("<@UBOT>\n    fn main() {}\n  "),
            "    fn main() {}\n  "
        );
        assert_eq!(
            prompt("<@UBOT> ask <@UBOT> again &lt;T&gt;"),
            "ask <@UBOT> again <T>"
        );
        assert_eq!(prompt("please <@UBOT>, look"), "please <@UBOT>, look");
        let dm = message("im", "  indented\n", "5.1", None);
        assert_eq!(
            direct(translate_event("T1", &dm, &me())).body,
            InboundBody::Prompt {
                text: "  indented\n".into()
            }
        );
    }

    #[test]
    fn thread_replies_need_a_session_unless_they_mention_the_bot() {
        let reply = message("channel", "and the docs", "101.1", Some("100.1"));
        match translate_event("T1", &reply, &me()) {
            Some(Addressed::IfSession(inbound)) => {
                assert_eq!(inbound.thread.topic.as_deref(), Some("100.1"))
            }
            other => panic!("{other:?}"),
        }
        let mention = message("channel", "<@UBOT> and the docs", "101.2", Some("100.1"));
        let inbound = direct(translate_event("T1", &mention, &me()));
        assert_eq!(inbound.thread.topic.as_deref(), Some("100.1"));
        // Channel chatter is not for the bot at all.
        let chatter = message("channel", "lunch?", "102.1", None);
        assert_eq!(translate_event("T1", &chatter, &me()), None);
    }

    #[test]
    fn direct_messages_are_always_for_the_bot() {
        let top = direct(translate_event(
            "T1",
            &message("im", "hi", "5.1", None),
            &me(),
        ));
        assert_eq!(top.thread.chat, "D1");
        assert_eq!(top.thread.topic, None);
        let threaded = direct(translate_event(
            "T1",
            &message("im", "more", "6.1", Some("5.1")),
            &me(),
        ));
        assert_eq!(threaded.thread.topic.as_deref(), Some("5.1"));
    }

    #[test]
    fn bots_edits_and_other_subtypes_are_ignored() {
        let mut own = message("im", "my answer", "7.1", None);
        own.bot_id = Some("BBOT".into());
        assert_eq!(translate_event("T1", &own, &me()), None);
        let mut self_user = message("im", "x", "7.2", None);
        self_user.user = Some("UBOT".into());
        assert_eq!(translate_event("T1", &self_user, &me()), None);
        let mut stranger = message("im", "x", "7.3", None);
        stranger.bot_id = Some("BOTHER".into());
        assert_eq!(translate_event("T1", &stranger, &me()), None);
        let mut friend = message("im", "x", "7.4", None);
        friend.bot_id = Some("BFRIEND".into());
        assert!(translate_event("T1", &friend, &me()).is_some());
        for subtype in [
            "message_changed",
            "message_deleted",
            "bot_message",
            "channel_join",
        ] {
            let mut e = message("im", "x", "8.1", None);
            e.subtype = Some(subtype.into());
            assert_eq!(translate_event("T1", &e, &me()), None, "{subtype}");
        }
        let mut broadcast = message("channel", "<@UBOT> x", "9.1", Some("8.1"));
        broadcast.subtype = Some("thread_broadcast".into());
        assert!(translate_event("T1", &broadcast, &me()).is_some());
    }

    #[test]
    fn exact_commands_are_commands_and_the_rest_prompts() {
        let cases = [
            (
                "<@UBOT> new devbox",
                InboundBody::Command(Command::New {
                    target: Some("devbox".into()),
                    host: None,
                    agent: None,
                }),
            ),
            (
                "<@UBOT> stop all",
                InboundBody::Command(Command::Stop { all: true }),
            ),
            ("<@UBOT>  status ", InboundBody::Command(Command::Status)),
            ("<@UBOT> help", InboundBody::Command(Command::Help)),
            (
                "<@UBOT> help me with the tests",
                InboundBody::Prompt {
                    text: "help me with the tests".into(),
                },
            ),
            (
                "<@UBOT> stop the server crashing",
                InboundBody::Prompt {
                    text: "stop the server crashing".into(),
                },
            ),
            ("<@UBOT>", InboundBody::Invalid(Invalid::EmptyMention)),
        ];
        for (text, expected) in cases {
            let e = message("channel", text, "1.1", None);
            assert_eq!(
                direct(translate_event("T1", &e, &me())).body,
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn slack_markup_is_read_as_a_person_reads_it() {
        assert_eq!(
            readable("see <https://x.io/a|the docs> and <https://y.io> &lt;b&gt; &amp; <@U2>"),
            "see the docs (https://x.io/a) and https://y.io <b> & <@U2>"
        );
        assert_eq!(readable("a <broken"), "a <broken");
        assert_eq!(readable("<mailto:a@b.c|a@b.c>"), "a@b.c (mailto:a@b.c)");
        // Line breaks and indentation are the prompt's: code, lists, directives.
        assert_eq!(
            readable(" fix:\n  a()\n\nthanks "),
            " fix:\n  a()\n\nthanks "
        );
    }

    #[test]
    fn slash_commands_are_commands_for_the_channel() {
        let command = SlashCommand {
            team_id: "T1".into(),
            channel_id: "C1".into(),
            user_id: "U1".into(),
            user_name: "ann".into(),
            command: "/switchboard".into(),
            text: "stop all".into(),
            trigger_id: "13.1".into(),
        };
        let inbound = translate_command(&command);
        assert_eq!(
            inbound.body,
            InboundBody::Command(Command::Stop { all: true })
        );
        assert_eq!(inbound.thread.topic, None);
        assert_eq!(inbound.external_id, "cmd:13.1");
        let empty = translate_command(&SlashCommand {
            text: " ".into(),
            ..command.clone()
        });
        assert_eq!(empty.body, InboundBody::Command(Command::Help));
        let bad = translate_command(&SlashCommand {
            text: "frob".into(),
            ..command
        });
        assert!(matches!(bad.body, InboundBody::Invalid(_)));
    }
}

/// Slack's real payloads (tests/fixtures/slack, from Slack's docs and SDK test suites) read
/// through the same types and translation as live events.
#[cfg(test)]
mod fixtures {
    use super::*;
    use crate::bots::slack::payload::{Callback, Frame};

    /// The fixture's callback, and the bot as its `authorizations` name it.
    fn callback(json: &str) -> (Callback, SlackMe) {
        let value: serde_json::Value = serde_json::from_str(json).expect("a JSON fixture");
        let body = if value["type"] == "events_api" {
            let frame: Frame = serde_json::from_value(value).expect("a Socket Mode frame");
            assert!(frame.envelope_id.is_some(), "an envelope to acknowledge");
            frame.payload
        } else {
            value
        };
        let me = SlackMe {
            team_id: body["team_id"].as_str().unwrap_or_default().to_owned(),
            user_id: body["authorizations"][0]["user_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            bot_id: "B0439P161B9".into(),
            allowed_bots: Vec::new(),
        };
        (serde_json::from_value(body).expect("a callback"), me)
    }

    fn translated(json: &str) -> Option<Addressed> {
        let (callback, me) = callback(json);
        let Callback::EventCallback { team_id, event, .. } = callback else {
            panic!("not an event callback: {callback:?}");
        };
        translate_event(&team_id, &event, &me)
    }

    macro_rules! fixture {
        ($path:literal) => {
            include_str!(concat!("../../../tests/fixtures/slack/", $path))
        };
    }

    #[test]
    fn events_the_bot_must_ignore() {
        for (name, json) in [
            ("bot_message", fixture!("events_api/bot_message.json")),
            ("channel_join", fixture!("events_api/channel_join.json")),
            (
                "message_changed",
                fixture!("events_api/message_changed.json"),
            ),
            (
                "changed by a bot",
                fixture!("events_api/message_changed_by_bot.json"),
            ),
            ("unfurl", fixture!("events_api/message_changed_unfurl.json")),
            (
                "message_deleted",
                fixture!("events_api/message_deleted.json"),
            ),
            (
                "own reply",
                fixture!("events_api/message_own_bot_thread_reply.json"),
            ),
            // Channel chatter without a mention, outside any thread.
            ("chatter", fixture!("events_api/message_channel.json")),
            (
                "rich chatter",
                fixture!("events_api/message_rich_text.json"),
            ),
        ] {
            assert_eq!(translated(json), None, "{name}");
        }
    }

    #[test]
    fn mentions_and_direct_messages_are_requests() {
        let Some(Addressed::Directly(mention)) =
            translated(fixture!("events_api/app_mention_docs.json"))
        else {
            panic!("the documented app_mention is a request");
        };
        assert_eq!(mention.external_id, "msg:C123ABC456:1515449522.000016");
        assert_eq!(mention.thread.topic.as_deref(), Some("1515449522.000016"));
        assert_eq!(mention.author.id, "U061F7AUR");

        let Some(Addressed::Directly(dm)) = translated(fixture!("events_api/message_im.json"))
        else {
            panic!("a direct message is a request");
        };
        assert_eq!(dm.thread.chat, "D0442US94JD");
        assert_eq!(dm.thread.topic, None);
        assert_eq!(
            dm.body,
            InboundBody::Prompt {
                text: "test".into()
            }
        );

        // This one's ids are redacted, but for the bot's in the mention.
        let (callback, mut me) = callback(fixture!("socket_mode/events_api_app_mention.json"));
        me.user_id = "U01JKSB8T7Y".into();
        let Callback::EventCallback { team_id, event, .. } = callback else {
            panic!("an event callback");
        };
        let Some(Addressed::Directly(socket)) = translate_event(&team_id, &event, &me) else {
            panic!("an app_mention over Socket Mode is a request");
        };
        assert_eq!(
            socket.body,
            InboundBody::Prompt {
                text: "test".into()
            }
        );
    }

    #[test]
    fn other_frames_parse_and_carry_nothing_to_store() {
        let hello: Frame = serde_json::from_str(fixture!("socket_mode/hello.json")).expect("hello");
        assert_eq!((hello.kind.as_str(), hello.envelope_id), ("hello", None));
        let disconnect: Frame =
            serde_json::from_str(fixture!("socket_mode/disconnect_warning.json")).expect("frame");
        assert_eq!(disconnect.kind, "disconnect");
        assert!(disconnect.reason.is_some());
        let shortcut: Frame =
            serde_json::from_str(fixture!("socket_mode/interactive_shortcut.json")).expect("frame");
        assert_eq!(shortcut.kind, "interactive");
        let (verification, _) = callback(fixture!("events_api/url_verification.json"));
        assert!(matches!(verification, Callback::UrlVerification { .. }));
        let retry: Frame =
            serde_json::from_str(fixture!("socket_mode/events_api_message_retry.json"))
                .expect("frame");
        assert_eq!(retry.retry_attempt, Some(1));
    }

    #[test]
    fn the_slash_command_envelope_is_a_command() {
        let frame: Frame =
            serde_json::from_str(fixture!("socket_mode/slash_commands.json")).expect("frame");
        let command: SlashCommand =
            serde_json::from_value(frame.payload).expect("a slash command payload");
        let inbound = translate_command(&command);
        assert!(inbound.external_id.starts_with("cmd:"), "{inbound:?}");
        assert_eq!(inbound.thread.topic, None);
    }
}
