//! The whole user surface as one enum, and its pure parser.
//!
//! Every platform maps its native form (`/new@bot devbox` on Telegram, later `@switchboard new`
//! on Slack or a Discord slash command) to a command name plus an argument string and calls
//! [`parse`]. Help text lives in [`COMMANDS`], and [`Command::name`] is an exhaustive match, so a
//! new variant cannot compile without a name and the tests fail until it has a help entry.

use serde::{Deserialize, Serialize};

use super::agent::{AgentKind, ModelRequest};
use super::thread::Platform;

/// What a user can ask besides a prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// The next prompt starts a fresh agent conversation in a new workspace. `target` is one
    /// word the handler resolves against the configuration: a project's name, `owner/repo` or
    /// `owner/repo@branch` on the GitHub App, or a host's name; `host` is the second word.
    /// `agent` is the word, anywhere among them, that names an agent (so an agent's name is
    /// never read as a project's or a host's).
    New {
        target: Option<String>,
        host: Option<String>,
        agent: Option<AgentKind>,
    },
    /// Switch the session to another agent: its next turn starts a fresh conversation with it.
    /// Without a name, show the session's agent and the choices.
    Agent { name: Option<AgentKind> },
    /// Set the model of the session's next turns (the conversation goes on). Without a choice,
    /// show the session's model and the agent's models.
    Model { choice: Option<ModelRequest> },
    /// Show this thread's session and its host's health.
    Status,
    /// Cancel the running turn; with `all`, also drop the queued prompts.
    Stop { all: bool },
    /// List this chat's sessions.
    Sessions,
    /// List the configured projects.
    Projects,
    /// Commit what is uncommitted in the session's worktree, push its branch, and open its pull
    /// request (or say the open one is updated).
    PullRequest,
    /// Queue a prompt that gives the agent the failing checks of the session's pushed commit:
    /// their names, endings, links and reports.
    FixCi,
    /// Capture the host's display, or with a URL, a web page as the host sees it.
    Screenshot { url: Option<String> },
    /// Queue `prompt` into this thread at the times of `cron` (five fields), in `time_zone`
    /// (an IANA name; `None`: `scheduling.time_zone`). The expression is checked when parsed,
    /// the zone (a look-up in the tz database) by the handler.
    Schedule {
        cron: String,
        time_zone: Option<String>,
        prompt: String,
    },
    /// List this thread's schedules with their next run.
    Schedules,
    /// Remove one of this thread's schedules.
    Unschedule { id: String },
    /// Show the commands.
    Help,
}

/// One command's help entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandHelp {
    pub name: &'static str,
    /// Arguments as shown in help, empty when none.
    pub args: &'static str,
    /// One line, under 256 characters (Telegram's command description limit).
    pub summary: &'static str,
}

/// Every command, in the order help shows them.
pub const COMMANDS: &[CommandHelp] = &[
    CommandHelp {
        name: "new",
        args: "[project] [host] [agent]",
        summary: "Start a fresh conversation in a new workspace (a project, \
                  owner/repo[@branch] or a host), any agent",
    },
    CommandHelp {
        name: "agent",
        args: "[name]",
        summary: "Show or switch this session's agent (claude, codex, opencode); a switch \
                  starts a fresh conversation",
    },
    CommandHelp {
        name: "model",
        args: "[name]",
        summary: "Show this session's model and the choices, or set it for the next turns \
                  (\"default\": the agent's)",
    },
    CommandHelp {
        name: "status",
        args: "",
        summary: "Show this thread's session, its running turn and the host's health",
    },
    CommandHelp {
        name: "stop",
        args: "[all]",
        summary: "Cancel the running turn; \"all\" also drops queued prompts",
    },
    CommandHelp {
        name: "sessions",
        args: "",
        summary: "List this chat's sessions",
    },
    CommandHelp {
        name: "projects",
        args: "",
        summary: "List the projects (repositories) sessions can work on",
    },
    CommandHelp {
        name: "pr",
        args: "",
        summary: "Commit and push this session's branch, and open its pull request (or update it)",
    },
    CommandHelp {
        name: "fix_ci",
        args: "",
        summary: "Give the agent the failing checks of the pushed commit (names, links, reports) \
                  to fix",
    },
    CommandHelp {
        name: "screenshot",
        args: "[url]",
        summary: "Capture the host's display, or a web page (http/https) as the host sees it",
    },
    CommandHelp {
        name: "schedule",
        args: "\"cron\" [tz=zone] prompt",
        summary: "Queue a prompt here at cron times, e.g. \"0 9 * * 1-5\" (weekdays 9:00), in \
                  tz=ZONE (default UTC)",
    },
    CommandHelp {
        name: "schedules",
        args: "",
        summary: "List this thread's schedules, with their ids and next runs",
    },
    CommandHelp {
        name: "unschedule",
        args: "id",
        summary: "Remove one of this thread's schedules",
    },
    CommandHelp {
        name: "help",
        args: "",
        summary: "Show what I can do",
    },
];

/// Why a command could not be parsed (the replies module words it for the user).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum CommandError {
    #[error("unknown command /{0}")]
    Unknown(String),
    #[error("wrong arguments for /{0}")]
    Usage(String),
    /// `/agent WORD` where WORD names no agent.
    #[error("{0:?} is not an agent")]
    NotAnAgent(String),
    /// `/model WORD` where WORD cannot be a model's name.
    #[error("{0:?} is not a model name")]
    NotAModel(String),
    /// `/schedule` whose cron expression or time zone is wrong: the message says the form.
    #[error("{0}")]
    BadSchedule(String),
}

impl CommandHelp {
    /// `/name args` (in the platform's syntax), as help and usage messages show it.
    pub fn usage(&self, spelling: &Spelling) -> String {
        if self.args.is_empty() {
            spelling.command(self.name)
        } else {
            spelling.command(&format!("{} {}", self.name, self.args))
        }
    }

    /// Whether `platform` has this command. GitHub has no `screenshot` (a comment cannot show
    /// the host's display), no `projects` (its thread is in a repository already) and no `pr`
    /// (a pull request's session pushes to it, and so no `fix_ci` for what `pr` pushed), no
    /// schedules (a prompt queued without a comment has nobody's request to act on), and a
    /// request that starts with one of those words is the agent's.
    pub fn offered_on(&self, platform: Platform) -> bool {
        !(platform == Platform::GitHub
            && matches!(
                self.name,
                "screenshot"
                    | "projects"
                    | "pr"
                    | "fix_ci"
                    | "schedule"
                    | "schedules"
                    | "unschedule"
            ))
    }
}

/// The handle a mention spells commands with where nothing more precise is known (the default
/// of `github.handle`, and the name Slack apps are set up with in bots/slack/).
pub const DEFAULT_HANDLE: &str = "switchboard";

/// How people type a command where they are: every reply that names a command spells it this
/// way, so the command it names is one they can send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spelling {
    /// `/stop all`: the platform has a slash command per command (Telegram, Discord, the web
    /// console).
    Slash,
    /// `@switchboard stop all`: a mention of this handle (without `@`) addresses the bot. Slack
    /// (whose one slash command does not know the thread it was typed in) and GitHub (which has
    /// no commands of its own).
    Mention(String),
}

impl Spelling {
    /// How a platform spells commands when its policy says nothing more precise.
    pub fn of(platform: Platform) -> Spelling {
        match platform {
            Platform::Slack | Platform::GitHub => Spelling::Mention(DEFAULT_HANDLE.to_owned()),
            Platform::Telegram | Platform::Discord | Platform::Web => Spelling::Slash,
        }
    }

    /// A command (`stop all`) as it is typed here.
    pub fn command(&self, command: &str) -> String {
        match self {
            Spelling::Slash => format!("/{command}"),
            Spelling::Mention(handle) => format!("@{handle} {command}"),
        }
    }
}

/// The help entry of a command name.
pub fn help_for(name: &str) -> Option<&'static CommandHelp> {
    COMMANDS.iter().find(|c| c.name == name)
}

impl Command {
    /// The command's name as typed (without the platform's prefix).
    pub fn name(&self) -> &'static str {
        match self {
            Command::New { .. } => "new",
            Command::Agent { .. } => "agent",
            Command::Model { .. } => "model",
            Command::Status => "status",
            Command::Stop { .. } => "stop",
            Command::Sessions => "sessions",
            Command::Projects => "projects",
            Command::PullRequest => "pr",
            Command::FixCi => "fix_ci",
            Command::Screenshot { .. } => "screenshot",
            Command::Schedule { .. } => "schedule",
            Command::Schedules => "schedules",
            Command::Unschedule { .. } => "unschedule",
            Command::Help => "help",
        }
    }
}

/// Parses a command name (case-insensitive, without `/` or `@bot`) and its argument text. A `-`
/// in the name reads as `_`: Telegram's command names cannot hold `-`, so `fix_ci` is the name
/// registered, and `/fix-ci`, as people write it, is the same command.
pub fn parse(name: &str, args: &str) -> Result<Command, CommandError> {
    let name = name.to_ascii_lowercase().replace('-', "_");
    let words: Vec<&str> = args.split_whitespace().collect();
    let help = help_for(&name).ok_or_else(|| CommandError::Unknown(name.clone()))?;
    let usage = || CommandError::Usage(help.name.to_owned());
    match (help.name, words.as_slice()) {
        ("new", _) => parse_new(&words).ok_or_else(usage),
        ("agent", []) => Ok(Command::Agent { name: None }),
        ("agent", [name]) => match name.parse() {
            Ok(kind) => Ok(Command::Agent { name: Some(kind) }),
            Err(_) => Err(CommandError::NotAnAgent((*name).to_owned())),
        },
        ("model", []) => Ok(Command::Model { choice: None }),
        ("model", [word]) => match ModelRequest::parse(word) {
            Some(choice) => Ok(Command::Model {
                choice: Some(choice),
            }),
            None => Err(CommandError::NotAModel((*word).to_owned())),
        },
        ("status", []) => Ok(Command::Status),
        ("stop", []) => Ok(Command::Stop { all: false }),
        ("stop", [all]) if all.eq_ignore_ascii_case("all") => Ok(Command::Stop { all: true }),
        ("sessions", []) => Ok(Command::Sessions),
        ("projects", []) => Ok(Command::Projects),
        ("pr", []) => Ok(Command::PullRequest),
        ("fix_ci", []) => Ok(Command::FixCi),
        ("screenshot", []) => Ok(Command::Screenshot { url: None }),
        ("screenshot", [url]) if is_web_url(url) => Ok(Command::Screenshot {
            url: Some((*url).to_owned()),
        }),
        ("schedule", _) => parse_schedule(args).ok_or_else(usage)?,
        ("schedules", []) => Ok(Command::Schedules),
        ("unschedule", [id]) => Ok(Command::Unschedule {
            id: (*id).to_owned(),
        }),
        ("help", _) => Ok(Command::Help),
        _ => Err(usage()),
    }
}

/// `/new`'s words: at most one that names an agent, wherever it is, and up to two others
/// (target, then host). `None`: too many words, or two agents.
fn parse_new(words: &[&str]) -> Option<Command> {
    let (agents, others): (Vec<&str>, Vec<&str>) = words
        .iter()
        .partition(|word| word.parse::<AgentKind>().is_ok());
    let agent = match agents.as_slice() {
        [] => None,
        [one] => one.parse().ok(),
        _ => return None,
    };
    let (target, host) = match others.as_slice() {
        [] => (None, None),
        [target] => (Some(*target), None),
        [target, host] => (Some(*target), Some(*host)),
        _ => return None,
    };
    Some(Command::New {
        target: target.map(str::to_owned),
        host: host.map(str::to_owned),
        agent,
    })
}

/// `/schedule`'s arguments: `"CRON" [tz=ZONE] prompt` (curly quotes, as phones type them, do
/// too). `None`: not that shape; `Some(Err)`: a cron expression or time zone that is wrong.
fn parse_schedule(args: &str) -> Option<Result<Command, CommandError>> {
    let rest = args.trim_start().strip_prefix(['"', '“', '”'])?;
    let (cron, rest) = rest.split_once(['"', '“', '”'])?;
    let rest = rest.trim_start();
    let (time_zone, prompt) = match rest.strip_prefix("tz=") {
        Some(zoned) => {
            let (zone, prompt) = zoned.split_once(char::is_whitespace).unwrap_or((zoned, ""));
            (Some(zone.to_owned()), prompt.trim())
        }
        None => (None, rest.trim_end()),
    };
    if prompt.is_empty() || prompt.contains('\0') {
        return None;
    }
    let bad = |e: &dyn std::fmt::Display| CommandError::BadSchedule(e.to_string());
    if let Err(e) = super::cron::Cron::parse(cron) {
        return Some(Err(bad(&e)));
    }
    Some(Ok(Command::Schedule {
        cron: cron.split_whitespace().collect::<Vec<_>>().join(" "),
        time_zone,
        prompt: prompt.to_owned(),
    }))
}

/// An absolute `http` or `https` URL with a host: what a browser can be sent to. Other schemes
/// (`file:`, `javascript:`, `chrome:`) are refused.
fn is_web_url(text: &str) -> bool {
    url::Url::parse(text)
        .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_parses_and_has_help() {
        let samples = [
            (
                "new",
                "",
                Command::New {
                    target: None,
                    host: None,
                    agent: None,
                },
            ),
            (
                "new",
                " devbox ",
                Command::New {
                    target: Some("devbox".into()),
                    host: None,
                    agent: None,
                },
            ),
            (
                "new",
                "acme/web@fix-1 devbox",
                Command::New {
                    target: Some("acme/web@fix-1".into()),
                    host: Some("devbox".into()),
                    agent: None,
                },
            ),
            (
                "new",
                "Codex",
                Command::New {
                    target: None,
                    host: None,
                    agent: Some(AgentKind::Codex),
                },
            ),
            (
                "new",
                "web opencode devbox",
                Command::New {
                    target: Some("web".into()),
                    host: Some("devbox".into()),
                    agent: Some(AgentKind::OpenCode),
                },
            ),
            (
                "new",
                "web devbox claude",
                Command::New {
                    target: Some("web".into()),
                    host: Some("devbox".into()),
                    agent: Some(AgentKind::Claude),
                },
            ),
            ("agent", "", Command::Agent { name: None }),
            (
                "agent",
                " CODEX ",
                Command::Agent {
                    name: Some(AgentKind::Codex),
                },
            ),
            ("model", "", Command::Model { choice: None }),
            (
                "model",
                "default",
                Command::Model {
                    choice: Some(ModelRequest::AgentDefault),
                },
            ),
            (
                "model",
                "claude-opus-4-5",
                Command::Model {
                    choice: Some(ModelRequest::Named("claude-opus-4-5".into())),
                },
            ),
            ("status", "", Command::Status),
            ("STOP", "", Command::Stop { all: false }),
            ("stop", "ALL", Command::Stop { all: true }),
            ("sessions", "", Command::Sessions),
            ("Projects", " ", Command::Projects),
            ("pr", "", Command::PullRequest),
            ("fix_ci", "", Command::FixCi),
            ("Fix-CI", "", Command::FixCi),
            ("screenshot", "", Command::Screenshot { url: None }),
            (
                "screenshot",
                " http://localhost:3000/a?b=c ",
                Command::Screenshot {
                    url: Some("http://localhost:3000/a?b=c".into()),
                },
            ),
            (
                "schedule",
                " \"0  9 * * 1-5\" tz=Europe/Berlin run the\nnightly checks ",
                Command::Schedule {
                    cron: "0 9 * * 1-5".into(),
                    time_zone: Some("Europe/Berlin".into()),
                    prompt: "run the\nnightly checks".into(),
                },
            ),
            (
                "schedule",
                "“*/15 * * * *” look",
                Command::Schedule {
                    cron: "*/15 * * * *".into(),
                    time_zone: None,
                    prompt: "look".into(),
                },
            ),
            ("schedules", "", Command::Schedules),
            (
                "unschedule",
                "s-1a2b",
                Command::Unschedule {
                    id: "s-1a2b".into(),
                },
            ),
            ("help", "anything", Command::Help),
        ];
        for (name, args, expected) in samples {
            let parsed = parse(name, args).unwrap();
            assert_eq!(parsed, expected);
            assert!(
                COMMANDS.iter().any(|c| c.name == parsed.name()),
                "/{} has no help entry",
                parsed.name()
            );
        }
        for help in COMMANDS {
            assert!(help.summary.len() < 256 && !help.summary.is_empty());
            // What Telegram takes as a command name.
            assert!(
                help.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_')
            );
            // Every argument optional: the command alone parses.
            if help.args.is_empty() || help.args.starts_with('[') {
                assert!(parse(help.name, "").is_ok(), "/{} without args", help.name);
            }
        }
    }

    #[test]
    fn bad_input_gets_a_clear_error() {
        assert_eq!(
            parse("frobnicate", ""),
            Err(CommandError::Unknown("frobnicate".into()))
        );
        assert_eq!(
            parse("stop", "everything"),
            Err(CommandError::Usage("stop".into()))
        );
        assert_eq!(
            parse("new", "a b c"),
            Err(CommandError::Usage("new".into()))
        );
        assert_eq!(
            parse("new", "codex web claude"),
            Err(CommandError::Usage("new".into()))
        );
        assert_eq!(
            parse("agent", "gemini"),
            Err(CommandError::NotAnAgent("gemini".into()))
        );
        assert_eq!(
            parse("agent", "codex now"),
            Err(CommandError::Usage("agent".into()))
        );
        assert_eq!(
            parse("model", "--dangerously-skip-permissions"),
            Err(CommandError::NotAModel(
                "--dangerously-skip-permissions".into()
            ))
        );
        assert_eq!(
            parse("model", "a b"),
            Err(CommandError::Usage("model".into()))
        );
        assert_eq!(
            parse("projects", "web"),
            Err(CommandError::Usage("projects".into()))
        );
        let Err(CommandError::BadSchedule(message)) = parse("schedule", "\"0 9 * *\" x") else {
            panic!("a cron expression of four fields");
        };
        assert!(message.contains("MIN HOUR DAY MONTH WEEKDAY"), "{message}");
        for args in ["", "0 9 * * * x", "\"0 9 * * *\"", "\"0 9 * * *\" tz=UTC"] {
            assert_eq!(
                parse("schedule", args),
                Err(CommandError::Usage("schedule".into())),
                "{args}"
            );
        }
        assert!(!help_for("projects").unwrap().offered_on(Platform::GitHub));
        assert!(help_for("projects").unwrap().offered_on(Platform::Slack));
        for url in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "localhost:3000",
            "http://",
            "chrome://settings",
            "http://a b",
        ] {
            assert_eq!(
                parse("screenshot", url),
                Err(CommandError::Usage("screenshot".into())),
                "{url}"
            );
        }
        assert_eq!(
            parse("status", "x"),
            Err(CommandError::Usage("status".into()))
        );
        assert_eq!(
            help_for("stop")
                .unwrap()
                .usage(&Spelling::of(Platform::Telegram)),
            "/stop [all]"
        );
        assert_eq!(
            help_for("status")
                .unwrap()
                .usage(&Spelling::of(Platform::Discord)),
            "/status"
        );
        assert_eq!(
            help_for("stop")
                .unwrap()
                .usage(&Spelling::Mention("sb-app".into())),
            "@sb-app stop [all]"
        );
        assert_eq!(
            help_for("new")
                .unwrap()
                .usage(&Spelling::of(Platform::Slack)),
            "@switchboard new [project] [host] [agent]"
        );
    }
}
