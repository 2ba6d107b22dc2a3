//! What a platform adapter hands the core: one stored, platform-neutral inbound event.

use serde::{Deserialize, Serialize};

use super::command::{Command, CommandError};
use super::controls::ButtonAction;
use super::thread::{Author, Platform, ThreadRef};
use super::trigger::Trigger;

/// A message or command addressed to the bot, already translated from the platform's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inbound {
    /// The platform's own id for this event (Telegram `update_id`): the deduplication key.
    pub external_id: String,
    pub thread: ThreadRef,
    pub author: Author,
    /// The platform message id, so answers can reply to it.
    pub message_id: Option<String>,
    pub body: InboundBody,
    /// What the platform's policy needs back about the event (opaque to the core).
    #[serde(default)]
    pub context: Option<serde_json::Value>,
    /// Photos and files sent with the message, for the agent's inbox.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<IncomingFile>,
}

/// A file a user sent, as the platform names it; its bytes are fetched when the prompt is
/// queued (see [`inbox`](super::inbox)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomingFile {
    /// The file's name as sent (`photo.jpg` for photos without one).
    pub name: String,
    /// Its size in bytes, when the platform says.
    pub size: Option<u64>,
    /// What the platform's policy fetches it by: a Telegram `file_id`, a Slack or Discord URL.
    pub source: String,
    /// What it is for: the agent's inbox, or a transcript.
    #[serde(default, skip_serializing_if = "FileKind::is_attachment")]
    pub kind: FileKind,
}

/// What a file a user sent is for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// Stored in the workspace inbox, for the agent to read.
    #[default]
    Attachment,
    /// A voice note or audio file: transcribed, and the transcript is the prompt.
    Audio,
}

impl FileKind {
    /// `Audio` for an `audio/*` media type, else `Attachment`.
    pub fn of_media_type(media_type: Option<&str>) -> FileKind {
        let audio = media_type.is_some_and(|t| {
            t.get(..6)
                .is_some_and(|head| head.eq_ignore_ascii_case("audio/"))
        });
        if audio {
            FileKind::Audio
        } else {
            FileKind::Attachment
        }
    }

    fn is_attachment(&self) -> bool {
        *self == FileKind::Attachment
    }
}

impl Inbound {
    pub fn platform(&self) -> Platform {
        self.thread.platform
    }
}

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InboundBody {
    /// Text for the agent.
    Prompt { text: String },
    /// A recognised command.
    Command(Command),
    /// A button under one of the bot's messages was pressed (`message_id`: that message).
    Press(ButtonAction),
    /// Something the bot cannot act on; the user is told why.
    Invalid(Invalid),
    /// A prompt a schedule (`core::schedules`) or a signed hook (`bots::hooks`) queues like a
    /// typed one. No platform reads a message as this: whoever made the schedule was admitted
    /// when they made it, a hook's sender proved it holds the hook's secret.
    Triggered { trigger: Trigger, text: String },
}

impl InboundBody {
    /// What a mention with `files` asks: with files, the text is the agent's caption even when
    /// it reads like a command ("status" under a log file is a question about the log).
    pub fn of_mention_with(request: &str, files: &[IncomingFile]) -> InboundBody {
        if files.is_empty() {
            InboundBody::of_mention(request)
        } else {
            InboundBody::Prompt {
                text: request.to_owned(),
            }
        }
    }

    /// What a message addressed to the bot by a mention asks (the mention removed): a command
    /// when it is exactly one (`new devbox`, `stop all`), an error when it is `agent` or `model`
    /// with one word that is no agent or model, otherwise a prompt — so "help me with
    /// the tests" reaches the agent. Chat platforms without a command syntax of their own (Slack,
    /// Discord) read mentions this way.
    ///
    /// Only recognising a command is lenient about blanks around it; a prompt is the request
    /// byte for byte.
    pub fn of_mention(request: &str) -> InboundBody {
        let words = request.trim();
        if words.is_empty() {
            return InboundBody::Invalid(Invalid::EmptyMention);
        }
        let (name, args) = words.split_once(char::is_whitespace).unwrap_or((words, ""));
        match super::command::parse(name, args) {
            Ok(Command::Help) if !args.trim().is_empty() => {}
            Ok(parsed) => return InboundBody::Command(parsed),
            // `agent gemini`, `model -x`: one word after the command's name is a choice that
            // went wrong, not a request for the agent.
            Err(
                e @ (CommandError::NotAnAgent(_)
                | CommandError::NotAModel(_)
                | CommandError::BadSchedule(_)),
            ) => {
                return InboundBody::Invalid(Invalid::Command(e));
            }
            Err(_) => {}
        }
        InboundBody::Prompt {
            text: request.to_owned(),
        }
    }
}

/// What follows the mention that addresses the bot (`rest`: the text after it): without the
/// blanks that separate it from the request and, when the mention stands alone on its line,
/// that line's end. Everything after that is the user's, byte for byte — pasted code keeps its
/// indentation.
pub fn after_addressing(rest: &str) -> &str {
    let rest = rest.trim_start_matches([' ', '\t']);
    rest.strip_prefix("\r\n")
        .or_else(|| rest.strip_prefix('\n'))
        .unwrap_or(rest)
}

/// Why an inbound message cannot be acted on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Invalid {
    /// A command that did not parse.
    Command(CommandError),
    /// Not a text message (a photo, a sticker, …).
    NotText,
    /// The bot was mentioned with nothing else to do.
    EmptyMention,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_recognised_around_blanks_and_prompts_are_kept_as_written() {
        assert_eq!(
            InboundBody::of_mention("stop all\n"),
            InboundBody::Command(Command::Stop { all: true })
        );
        assert_eq!(
            InboundBody::of_mention(" \n"),
            InboundBody::Invalid(Invalid::EmptyMention)
        );
        let code = "    fn main() {}\n  \n";
        assert_eq!(
            InboundBody::of_mention(code),
            InboundBody::Prompt { text: code.into() }
        );
        assert_eq!(
            InboundBody::of_mention("agent codex"),
            InboundBody::Command(Command::Agent {
                name: Some(crate::domain::agent::AgentKind::Codex)
            })
        );
        assert_eq!(
            InboundBody::of_mention("agent gemini"),
            InboundBody::Invalid(Invalid::Command(CommandError::NotAnAgent("gemini".into())))
        );
        assert_eq!(
            InboundBody::of_mention("model --help"),
            InboundBody::Invalid(Invalid::Command(CommandError::NotAModel("--help".into())))
        );
        let request = "model the data layer after the schema";
        assert_eq!(
            InboundBody::of_mention(request),
            InboundBody::Prompt {
                text: request.into()
            }
        );
        assert_eq!(after_addressing("  \t fix it "), "fix it ");
        assert_eq!(after_addressing(" \r\n    indented"), "    indented");
        assert_eq!(
            after_addressing("\n\nafter a blank line"),
            "\nafter a blank line"
        );
        assert_eq!(after_addressing(", and more"), ", and more");
    }

    #[test]
    fn audio_media_types_are_audio_files() {
        assert_eq!(FileKind::of_media_type(Some("audio/ogg")), FileKind::Audio);
        assert_eq!(FileKind::of_media_type(Some("Audio/MP4")), FileKind::Audio);
        for other in [Some("video/mp4"), Some("audio"), Some("image/png"), None] {
            assert_eq!(
                FileKind::of_media_type(other),
                FileKind::Attachment,
                "{other:?}"
            );
        }
    }

    #[test]
    fn a_caption_with_files_is_a_prompt_even_when_it_reads_like_a_command() {
        let file = IncomingFile {
            name: "build.log".into(),
            size: Some(3),
            source: "x".into(),
            kind: FileKind::Attachment,
        };
        assert_eq!(
            InboundBody::of_mention_with("status", &[]),
            InboundBody::Command(Command::Status)
        );
        assert_eq!(
            InboundBody::of_mention_with("status", std::slice::from_ref(&file)),
            InboundBody::Prompt {
                text: "status".into()
            }
        );
        assert_eq!(
            InboundBody::of_mention_with("", &[file]),
            InboundBody::Prompt {
                text: String::new()
            }
        );
    }
}
