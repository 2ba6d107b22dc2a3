//! Every user-visible string, one constructor per situation.
//!
//! Replies are CommonMark; each platform renders them (src/render/). Anything that comes from
//! outside — host names, error texts, user names — passes through [`esc`] so it shows literally
//! and cannot inject markup. Wording rules: say what happened, then what to do about it.

use std::time::Duration;

use super::agent_choice::{Refused, Switched};
use super::placement::Unplaced;
use crate::domain::admission::Refusal;
use crate::domain::agent::{AgentKind, MODEL_RESET};
use crate::domain::changes::ChangeStats;
use crate::domain::checks::FailingCheck;
use crate::domain::command::{COMMANDS, CommandError, Spelling, help_for};
use crate::domain::inbound::Invalid;
use crate::domain::outcome::{Budget, Outcome};
use crate::domain::project::Project;
use crate::domain::thread::{Platform, ThreadRef};
use crate::domain::workspace::SessionWorkspace;
use crate::render::escape_markdown as esc;
use crate::runner::capture::{CaptureError, Png, page};
use crate::runner::changes::{ChangeKind, Changes};
use crate::runner::health::Health;
use crate::runner::worktree::WorkspaceState;
use crate::store::{SessionRow, SessionSummary, SessionTotals, TurnRow};

/// `1m 05s`, `12s`, `2h 03m`.
pub fn duration(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m {:02}s", secs / 60, secs % 60),
        _ => format!("{}h {:02}m", secs / 3600, (secs % 3600) / 60),
    }
}

fn duration_ms(ms: i64) -> String {
    duration(Duration::from_millis(ms.max(0) as u64))
}

/// `$0.0375`
pub fn cost(usd: f64) -> String {
    format!("${usd:.4}")
}

/// Which hosts a thread's turns may run on, as help tells it.
#[derive(Debug, Clone, Copy)]
pub enum HostChoice<'a> {
    /// Any configured host (`new HOST`), `default` unless asked.
    Any {
        default: &'a str,
        hosts: &'a [String],
    },
    /// Only this one: the platform decides (GitHub: `github.host`).
    Pinned(&'a str),
}

/// The commands `platform` has, as they are typed there.
pub fn help(platform: Platform, spelling: &Spelling, hosts: HostChoice<'_>) -> String {
    let mut text = String::from(
        "**Switchboard** runs a coding agent for this chat on a workspace host.\n\n\
         Send any message and it becomes a prompt for this thread's session; follow-ups \
         continue the same conversation and wait their turn while the agent works.\n\n",
    );
    for c in COMMANDS.iter().filter(|c| c.offered_on(platform)) {
        let line = match hosts {
            HostChoice::Pinned(host) if c.name == "new" => format!(
                "- `{}` — Start a fresh agent conversation (on {}, where turns here run)\n",
                spelling.command("new [agent]"),
                esc(host)
            ),
            _ => format!("- `{}` — {}\n", c.usage(spelling), c.summary),
        };
        text.push_str(&line);
    }
    if let HostChoice::Any { default, hosts } = hosts {
        text.push_str(&format!(
            "\nHosts: {} (default `{}`).",
            hosts
                .iter()
                .map(|h| format!("`{h}`"))
                .collect::<Vec<_>>()
                .join(", "),
            default
        ));
    }
    text
}

/// The answer to someone who may not use the bot; `None` when they get no answer.
pub fn refusal(refusal: &Refusal) -> Option<String> {
    match refusal {
        Refusal::NotAllowed { user_id } => Some(format!(
            "Sorry, you are not allowed to use this bot. If you should be, ask its operator to add \
             your user id `{}` to the allowed users.",
            user_id.replace('`', "")
        )),
        Refusal::NoWriteAccess { login, .. } => Some(format!(
            "Sorry @{}, only people with write access to this repository can ask me to work on it.",
            esc(login)
        )),
        Refusal::Silent { .. } => None,
    }
}

/// Why the bot cannot act on a message.
pub fn invalid(spelling: &Spelling, invalid: &Invalid) -> String {
    let help = spelling.command("help");
    match invalid {
        Invalid::Command(CommandError::Unknown(name)) => {
            format!(
                "There is no command `{}`. Send `{help}` for the commands.",
                spelling.command(&name.replace('`', ""))
            )
        }
        Invalid::Command(CommandError::Usage(name)) => match help_for(name) {
            Some(entry) => format!("Usage: `{}` — {}", entry.usage(spelling), entry.summary),
            None => format!("Send `{help}` for the commands."),
        },
        Invalid::Command(CommandError::NotAnAgent(name)) => format!(
            "{} is not an agent. Agents: {}. Send `{}`.",
            esc(name),
            agent_list(),
            spelling.command("agent NAME")
        ),
        Invalid::Command(CommandError::NotAModel(word)) => format!(
            "{} cannot be a model's name (letters, digits and `. _ - : / @ [ ]`, not starting \
             with `-`). Send `{}` for the choices.",
            esc(word),
            spelling.command("model")
        ),
        Invalid::Command(CommandError::BadSchedule(problem)) => format!(
            "{}. Usage: `{}`",
            esc(problem),
            help_for("schedule").map_or(String::new(), |entry| entry.usage(spelling))
        ),
        Invalid::NotText => "I can only read text messages so far.".to_owned(),
        Invalid::EmptyMention => format!(
            "You mentioned me without a request: write it after the mention, or send `{help}`."
        ),
    }
}

/// The summary line of one piece of an answer too long for one comment.
pub fn continued(part: usize, parts: usize) -> String {
    format!("The answer, continued (part {part} of {parts})")
}

/// The note closing a comment whose answer continues in the next ones.
pub fn continued_below() -> String {
    "*(The answer is longer than one comment allows; it continues below.)*".to_owned()
}

/// The note closing a comment whose files do not fit in it and follow in the next ones.
pub fn files_continue_below() -> String {
    "*(The files are longer than this comment allows; they follow below.)*".to_owned()
}

/// A GitHub tracking comment while the request waits or starts.
pub fn github_working(ahead: i64) -> String {
    match ahead {
        0 => "⏳ Working on it…".to_owned(),
        1 => "⏳ Queued behind 1 earlier request in this thread.".to_owned(),
        n => format!("⏳ Queued behind {n} earlier requests in this thread."),
    }
}

/// Caption of the file holding a very long answer.
pub fn long_answer_caption(chars: usize) -> String {
    format!("The full answer ({chars} characters) is in this file.")
}

/// Stand-in for a message that rendered to nothing.
pub fn empty_message() -> String {
    "(empty message)".to_owned()
}

pub fn internal_error(reference: &str) -> String {
    format!(
        "Something went wrong on my side (reference `{reference}`). Nothing was lost; please try \
         again, and tell the operator the reference if it keeps happening."
    )
}

/// A prompt with a NUL character (U+0000), which no agent command line or database text takes.
pub fn prompt_has_nul() -> String {
    "Your message contains a NUL character (U+0000), which cannot be passed to the agent. \
     Remove it and send the message again."
        .to_owned()
}

pub fn queue_full(spelling: &Spelling, max: u32) -> String {
    format!(
        "The queue of this session is full ({max} prompts are waiting). Wait for some to finish, \
         or drop them with `{}`.",
        spelling.command("stop all")
    )
}

pub fn turn_starting() -> String {
    "⏳ Starting…".to_owned()
}

pub fn turn_queued(position: i64) -> String {
    match position {
        1 => "⏳ Queued, position 1: next once the current turn ends.".to_owned(),
        n => format!("⏳ Queued, position {n}: {n} prompts are ahead of it."),
    }
}

pub fn waiting_for_host(host: &str, running: u32) -> String {
    let running = match running {
        1 => "1 turn is".to_owned(),
        n => format!("{n} turns are"),
    };
    format!(
        "⏳ Waiting for a free slot on host {} ({running} running there).",
        esc(host)
    )
}

/// The progress message while the agent works.
pub fn progress(elapsed: Duration, host: &str, activity: &[String], note: Option<&str>) -> String {
    let mut text = format!("⚙️ Working on {} · {}", esc(host), duration(elapsed));
    for line in activity {
        text.push_str("\n- ");
        text.push_str(line);
    }
    if let Some(note) = note {
        text.push_str("\n\n");
        text.push_str(note);
    }
    text
}

/// One activity line for a tool call: `` `Bash` npm test ``.
pub fn tool_activity(name: &str, summary: &str) -> String {
    if summary.is_empty() {
        format!("`{}`", name.replace('`', ""))
    } else {
        format!("`{}` {}", name.replace('`', ""), esc(summary))
    }
}

pub fn api_retry_note(attempt: i64, max: i64, status: Option<i64>) -> String {
    match status {
        Some(status) => {
            format!("🔁 The model API failed (HTTP {status}); retry {attempt} of {max}.")
        }
        None => format!("🔁 The model API failed; retry {attempt} of {max}."),
    }
}

/// An activity line for an agent output line too long to read.
pub fn line_too_long_activity(bytes: u64) -> String {
    format!("⚠️ skipped an output line of {}", megabytes(bytes))
}

/// `20.0 MB`.
fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
}

pub fn connection_lost_note(host: &str, reason: &str) -> String {
    format!(
        "⚠️ Lost the connection to {} ({}). The agent keeps working there; reconnecting…",
        esc(host),
        esc(reason)
    )
}

/// The status line of a turn stopped with its Stop button: who stopped it, after how long.
pub fn stopped_by(who: &str, elapsed: Duration) -> String {
    format!("🛑 Stopped by {} after {}", esc(who), duration(elapsed))
}

/// The status message right after its Stop button was pressed, until the turn has ended.
pub fn stopping_by(who: &str) -> String {
    format!("🛑 Stopped by {}", esc(who))
}

/// A queued prompt's acknowledgement after its Cancel button dropped it.
pub fn cancelled_by(who: &str) -> String {
    format!("✖️ Cancelled by {}: this prompt will not run.", esc(who))
}

/// What a button press is answered with, shown only to who pressed it (plain text).
pub mod press {
    pub fn refused() -> String {
        "You may not use the controls in this thread.".to_owned()
    }

    pub fn not_here() -> String {
        "That button belongs to another thread.".to_owned()
    }

    pub fn turn_ended() -> String {
        "That turn has already ended.".to_owned()
    }

    pub fn already_stopping() -> String {
        "That turn is being stopped already.".to_owned()
    }

    pub fn not_queued() -> String {
        "That prompt is no longer waiting: it has started or ended.".to_owned()
    }

    pub fn stopping() -> String {
        "🛑 Stopping the turn.".to_owned()
    }

    pub fn cancelled() -> String {
        "✖️ Dropped from the queue.".to_owned()
    }

    pub fn retried() -> String {
        "🔁 Asked again.".to_owned()
    }

    pub fn opening_pr() -> String {
        "🔀 Opening the pull request; the thread has the answer.".to_owned()
    }

    pub fn session_gone() -> String {
        "That session is no longer this thread's.".to_owned()
    }
}

/// The status line a turn's progress message ends with.
pub fn final_status(
    outcome: &Outcome,
    elapsed: Duration,
    cost_usd: Option<f64>,
    tools: usize,
) -> String {
    let took = duration(elapsed);
    match outcome {
        Outcome::Success { .. } => {
            let mut line = format!("✅ Done in {took}");
            if let Some(c) = cost_usd {
                line.push_str(&format!(" · {}", cost(c)));
            }
            if tools > 0 {
                line.push_str(&format!(
                    " · {tools} tool call{}",
                    if tools == 1 { "" } else { "s" }
                ));
            }
            line
        }
        Outcome::Cancelled => format!("🛑 Cancelled after {took}"),
        Outcome::OverBudget { .. } => "💸 Not run: over budget".to_owned(),
        Outcome::TimedOut { .. } => format!("⏱ Timed out after {took}"),
        other => format!("❌ Failed after {took}: {}", failure_title(other)),
    }
}

fn failure_title(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Success { .. } => "done",
        Outcome::ApiError { .. } => "model API error",
        Outcome::MaxTurns => "turn limit reached",
        Outcome::SessionNotFound { .. } => "conversation lost",
        Outcome::Cancelled => "cancelled",
        Outcome::TimedOut { .. } => "timed out",
        Outcome::AgentNotInstalled { .. } => "agent not installed",
        Outcome::HostUnreachable { .. } => "host unreachable",
        Outcome::HostKeyMismatch { .. } => "host key mismatch",
        Outcome::LaunchFailed { .. } => "could not start",
        Outcome::AgentError { .. } => "agent error",
        Outcome::Crashed { .. } => "agent stopped unexpectedly",
        Outcome::OutputTooLong { .. } => "output too long",
        Outcome::OverBudget { .. } => "over budget",
    }
}

/// The message posted when a turn ends: the answer, or what went wrong and what to do.
pub fn outcome_message(spelling: &Spelling, outcome: &Outcome, host: &str) -> String {
    let host = esc(host);
    match outcome {
        Outcome::Success { text } if text.trim().is_empty() => {
            "The agent finished without writing an answer.".to_owned()
        }
        Outcome::Success { text } => text.clone(),
        Outcome::ApiError { message, status } => {
            let status = status.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
            format!(
                "❌ The agent could not reach its model API{status}:\n\n> {}\n\nYour conversation \
                 is intact; send your message again to retry.",
                esc(message)
            )
        }
        Outcome::MaxTurns => "❌ The agent reached its turn limit (`max_turns`) before finishing. \
             Send a follow-up to let it continue."
            .to_owned(),
        Outcome::SessionNotFound { agent_session_id } => format!(
            "⚠️ The agent's conversation `{}` no longer exists on {host}, so its context is lost. \
             Your next message starts a fresh conversation.",
            // A code span shows backslash escapes literally: drop backticks instead.
            agent_session_id.replace('`', "")
        ),
        Outcome::Cancelled => "🛑 Cancelled.".to_owned(),
        Outcome::TimedOut { after_secs } => format!(
            "⏱ The turn ran longer than the limit of {} and was stopped. The conversation is \
             intact; send a follow-up to continue.",
            duration(Duration::from_secs(*after_secs))
        ),
        Outcome::AgentNotInstalled { command } => format!(
            "❌ The agent is not installed on {host}: `{}` was not found. Install it there, or set \
             its full path in `hosts.<name>.agents.claude.command` (non-login SSH shells have a \
             short PATH).",
            command.replace('`', "")
        ),
        Outcome::HostUnreachable { reason } => format!(
            "❌ Host {host} is unavailable: {}. Your message was not run; send it again once the \
             host is back, or use `{}` with another host.",
            esc(reason),
            spelling.command("new")
        ),
        Outcome::HostKeyMismatch { presented } => format!(
            "❌ Host {host} is unavailable: it presented an unexpected host key ({}), so I refused \
             to connect. If the host was reinstalled, the operator must update its pinned key.",
            esc(presented)
        ),
        Outcome::LaunchFailed { reason } => {
            format!("❌ Could not start the agent on {host}: {}", esc(reason))
        }
        Outcome::AgentError { message } => {
            format!("❌ The agent stopped with an error:\n\n> {}", esc(message))
        }
        Outcome::Crashed {
            exit_code,
            stderr_tail,
        } => {
            let code = exit_code
                .map(|c| format!(" (exit status {c})"))
                .unwrap_or_default();
            let mut text = format!("❌ The agent stopped without finishing its turn{code}.");
            if !stderr_tail.trim().is_empty() {
                text.push_str(&format!(
                    "\n\n```\n{}\n```",
                    stderr_tail.replace("```", "'''")
                ));
            }
            text
        }
        Outcome::OutputTooLong {
            line_bytes,
            limit_bytes,
        } => format!(
            "❌ The agent wrote an output line of {}, more than the {} I read, and I found no \
             answer after it (it may have been that line). Your conversation is intact: ask it \
             for a shorter answer, or to write long output to a file.",
            megabytes(*line_bytes),
            megabytes(*limit_bytes)
        ),
        Outcome::OverBudget {
            budget: Budget::UserDaily,
            spent_usd,
            limit_usd,
        } => format!(
            "💸 Not run: you have spent {} today, and your daily budget is {}. It starts afresh at \
             midnight UTC; the prompt was not queued for later, so send it again then.",
            cost(*spent_usd),
            cost(*limit_usd)
        ),
        Outcome::OverBudget {
            budget: Budget::Session,
            spent_usd,
            limit_usd,
        } => format!(
            "💸 Not run: this session has cost {}, and a session's budget is {}. Send `{}` to \
             start a new session with a fresh budget.",
            cost(*spent_usd),
            cost(*limit_usd),
            spelling.command("new")
        ),
    }
}

/// The agent's commits that were pushed to the pull request's branch.
pub fn pushed(branch: &str, commits: &[String]) -> String {
    let mut text = format!(
        "Pushed {} commit{} to `{}`:",
        commits.len(),
        plural(commits.len()),
        branch.replace('`', "")
    );
    for commit in commits {
        text.push_str(&format!("\n- {}", esc(commit)));
    }
    text
}

/// How many files a turn's summary lists before "and N more".
pub const CHANGED_FILES_SHOWN: usize = 15;

/// What a turn changed in its workspace, compact: the totals, up to
/// [`CHANGED_FILES_SHOWN`] files, the new commits. The full patch travels as a file.
pub fn workspace_changes(changes: &Changes) -> String {
    if changes.is_empty() {
        return "No files changed.".to_owned();
    }
    let code = |path: &str| format!("`{}`", path.replace('`', ""));
    let mut text = format!("**Changes:** {}", change_figures(&changes.stats()));
    for file in changes.files.iter().take(CHANGED_FILES_SHOWN) {
        let what = match (&file.submodule, file.lines, file.kind) {
            (_, _, ChangeKind::Deleted) => "deleted".to_owned(),
            (Some(commit), _, _) => format!("submodule at {}", commit.get(..7).unwrap_or(commit)),
            (None, None, _) => "binary".to_owned(),
            (None, Some((a, r)), ChangeKind::Added) => format!("new, +{a} −{r}"),
            (None, Some((a, r)), _) => format!("+{a} −{r}"),
        };
        match &file.renamed_from {
            Some(from) => text.push_str(&format!(
                "\n- {} → {} ({what})",
                code(from),
                code(&file.path)
            )),
            None => text.push_str(&format!("\n- {} ({what})", code(&file.path))),
        }
    }
    if changes.files.len() > CHANGED_FILES_SHOWN {
        text.push_str(&format!(
            "\n- …and {} more",
            changes.files.len() - CHANGED_FILES_SHOWN
        ));
    }
    for commit in &changes.commits {
        text.push_str(&format!(
            "\n- commit `{}` {}",
            commit.id.get(..7).unwrap_or(&commit.id),
            esc(&commit.subject)
        ));
    }
    text
}

/// Where an image the agent made is, on a platform that cannot show it (GitHub).
pub fn image_not_shown(path: &str) -> String {
    format!(
        "🖼 The agent made the image `{}` in its workspace (images cannot be attached here).",
        path.replace('`', "")
    )
}

/// The caption of a turn's patch file.
pub fn patch_caption(files: usize) -> String {
    format!("The patch: {files} file{} changed.", plural(files))
}

/// `3 files, +10 −2 · 1 new commit`.
fn change_figures(stats: &ChangeStats) -> String {
    let mut text = format!(
        "{} file{}, +{} −{}",
        stats.files,
        plural(stats.files),
        stats.added,
        stats.removed
    );
    if stats.commits > 0 {
        text.push_str(&format!(
            " · {} new commit{}",
            stats.commits,
            plural(stats.commits)
        ));
    }
    text
}

/// The workspace has no git repository, so there is nothing to compare.
pub fn workspace_not_a_repository() -> String {
    "The workspace is not a git repository, so its changes are not shown.".to_owned()
}

pub fn push_failed(branch: &str, reason: &str) -> String {
    format!(
        "⚠️ The agent's commits could not be pushed to `{}`: {}",
        branch.replace('`', ""),
        esc(reason)
    )
}

/// The prompt with where the user's files are (paths relative to the agent's workspace).
pub fn prompt_with_files(text: &str, paths: &[String]) -> String {
    let list = paths
        .iter()
        .map(|p| format!("- {p}"))
        .collect::<Vec<_>>()
        .join("\n");
    if text.trim().is_empty() {
        format!("The user sent these files, saved in the workspace:\n{list}")
    } else {
        format!(
            "{text}\n\n(Files the user sent with this message, saved in the workspace:\n{list})"
        )
    }
}

/// A file over the size limit: refused, nothing queued.
pub fn file_too_large(name: &str, limit: u64) -> String {
    format!(
        "📎 {} is larger than {} MB, the most I take; nothing was sent to the agent. Send a \
         smaller file, or put it on the host another way.",
        esc(name),
        limit / (1024 * 1024)
    )
}

/// A file the platform did not hand over: nothing queued.
pub fn file_not_fetched(name: &str, reason: &str) -> String {
    format!(
        "📎 I could not download {}: {}. Nothing was sent to the agent; please send it again.",
        esc(name),
        esc(reason)
    )
}

/// A file that could not be written to the host: nothing queued.
pub fn file_not_stored(name: &str, host: &str, reason: &str) -> String {
    format!(
        "📎 I could not store {} on {}: {}. Nothing was sent to the agent; please send it again.",
        esc(name),
        esc(host),
        esc(reason)
    )
}

/// A voice note or audio file without `[transcription]`: how to turn it on.
pub fn transcription_off(name: &str) -> String {
    format!(
        "🎙 I cannot listen to {} yet: speech to text is off. To turn it on, add a \
         `[transcription]` section with `api_url` (an OpenAI-compatible service, such as \
         `https://api.openai.com`) to the config, put its key in `TRANSCRIPTION_API_KEY` or \
         `api_key_file`, and restart. Meanwhile, type the request.",
        esc(name)
    )
}

/// Audio the speech-to-text service failed on: nothing queued.
pub fn not_transcribed(name: &str, reason: &str) -> String {
    format!(
        "🎙 I could not transcribe {}: {}. Nothing was sent to the agent; please send it again.",
        esc(name),
        esc(reason)
    )
}

/// Audio in which the service heard no words: nothing queued.
pub fn nothing_heard(name: &str) -> String {
    format!(
        "🎙 I heard no words in {}. Nothing was sent to the agent.",
        esc(name)
    )
}

/// What the speech-to-text service heard, shown in the thread as the prompt it became.
pub fn transcript_echo(transcript: &str) -> String {
    format!("🎙 “{}”", esc(transcript))
}

/// What a `/screenshot` shows, said with the picture.
pub enum Shot<'a> {
    Display {
        display: &'a str,
    },
    Page {
        url: &'a str,
        cut: bool,
        unfinished: bool,
    },
}

/// The text posted with a screenshot.
pub fn screenshot(host: &str, shot: &Shot<'_>, png: &Png) -> String {
    let size = format!("{}×{}", png.width, png.height);
    match shot {
        Shot::Display { display } => {
            format!("🖥 The display `{display}` on {} ({size}).", esc(host))
        }
        Shot::Page {
            url,
            cut,
            unfinished,
        } => {
            let mut text = format!("🌐 {} as {} sees it ({size}).", esc(url), esc(host));
            if *cut {
                text.push_str(&format!(
                    " The page is taller: it was cut at {} pixels.",
                    page::MAX_HEIGHT
                ));
            }
            if *unfinished {
                text.push_str(&format!(
                    " It had not finished loading after {} s; this is what it showed.",
                    page::LOAD_WAIT.as_secs()
                ));
            }
            text
        }
    }
}

/// Why a `/screenshot` has no picture, and what to do about it.
pub fn screenshot_failed(host: &str, url: Option<&str>, error: &CaptureError) -> String {
    let host = esc(host);
    match error {
        CaptureError::NoDisplayConfigured => format!(
            "📷 {host} has no display to capture. Run an X server there (`Xvfb :99 -screen 0 \
             1280x800x24`) and set `display = \":99\"` under `[hosts.{host}]`, or give a URL to \
             capture a web page instead."
        ),
        CaptureError::DisplayDown { display, .. } => format!(
            "📷 The display `{display}` on {host} is not running: start its X server (Xvfb) \
             and try again."
        ),
        CaptureError::Missing { program } => {
            format!("📷 {} is not installed on {host}.", esc(program))
        }
        CaptureError::PageFailed { reason } => format!(
            "📷 {} did not load on {host}: `{}`. Is the server running there?",
            esc(url.unwrap_or_default()),
            reason.replace('`', "")
        ),
        CaptureError::TimedOut(limit) => format!(
            "📷 The capture on {host} took longer than {} s and was given up.",
            limit.as_secs()
        ),
        CaptureError::Transport(e) => format!("📷 Could not reach {host}: {}", esc(&e.to_string())),
        CaptureError::Failed(detail) => {
            format!("📷 The capture on {host} failed: {}", esc(detail))
        }
    }
}

pub fn unknown_host(name: &str, hosts: &[String]) -> String {
    format!(
        "There is no host named {}. Hosts: {}.",
        esc(name),
        hosts
            .iter()
            .map(|h| format!("`{h}`"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

pub fn new_session(session: &SessionRow, previous_busy: bool) -> String {
    let mut text = format!(
        "🆕 New session on {}, {}, with {}. Your next message starts a fresh conversation.",
        esc(&session.host),
        workspace_phrase(session.workspace.as_ref()),
        agent_and_model(session.agent, session.model.as_deref())
    );
    if previous_busy {
        text.push_str(" The previous session's running and queued prompts finish there.");
    }
    text
}

/// Where a session works, as a phrase: "working on web (branch `switchboard/…` from `main`)".
fn workspace_phrase(workspace: Option<&SessionWorkspace>) -> String {
    match workspace {
        None => "in the host's working directory".to_owned(),
        Some(SessionWorkspace::Scratch) => "in a directory of its own".to_owned(),
        Some(SessionWorkspace::Worktree(worktree)) => format!(
            "working on {} (branch `{}` from {})",
            esc(&worktree.project),
            worktree.branch,
            worktree
                .base
                .as_deref()
                .map_or_else(|| "the default branch".to_owned(), |b| format!("`{b}`"))
        ),
    }
}

/// The status line of a session's workspace: what it is, then what its host shows of it;
/// `removed`: the clean-up removed it (and no turn made it again since).
fn workspace_line(
    workspace: Option<&SessionWorkspace>,
    removed: bool,
    state: Option<&WorkspaceState>,
) -> Option<String> {
    let mut parts = vec![match workspace? {
        SessionWorkspace::Scratch => "a directory of its own".to_owned(),
        SessionWorkspace::Worktree(worktree) => format!(
            "{} from {}",
            esc(&worktree.project),
            worktree
                .base
                .as_deref()
                .map_or_else(|| "its default branch".to_owned(), |b| format!("`{b}`"))
        ),
    }];
    let Some(state) = state else {
        return Some(parts.remove(0));
    };
    if !state.exists {
        parts.push(
            match removed {
                true => "removed when the session was idle (the next prompt makes it again)",
                false => "not made yet (the next prompt makes it)",
            }
            .to_owned(),
        );
        return Some(parts.join(" · "));
    }
    if let Some(branch) = &state.branch {
        parts.push(format!("branch `{branch}`"));
    }
    match (state.ahead, state.behind) {
        (Some(ahead), Some(behind)) if ahead > 0 || behind > 0 => {
            parts.push(format!("{ahead} ahead, {behind} behind its start"));
        }
        _ => {}
    }
    if let Some(dirty) = state.dirty {
        parts.push(match dirty {
            0 => "nothing uncommitted".to_owned(),
            n => format!("{n} uncommitted file{}", plural(n as usize)),
        });
    }
    if let Some(kib) = state.disk_kib {
        parts.push(disk(kib));
    }
    Some(parts.join(" · "))
}

/// A disk use in KiB, as people read it.
pub fn disk(kib: u64) -> String {
    match kib {
        0..1024 => format!("{kib} KB"),
        1024..1_048_576 => format!("{:.1} MB", kib as f64 / 1024.0),
        _ => format!("{:.1} GB", kib as f64 / 1_048_576.0),
    }
}

/// A branch's pull request, as `/pr` tells it.
pub struct PullRequestView<'a> {
    pub number: u64,
    pub url: &'a str,
    pub created: bool,
}

pub fn pr_opened(branch: &str, pr: &PullRequestView<'_>, committed: bool) -> String {
    let committed = if committed {
        "Committed the uncommitted work and pushed"
    } else {
        "Pushed"
    };
    if pr.created {
        format!(
            "🔀 {committed} `{branch}` and opened pull request #{}: {}",
            pr.number, pr.url
        )
    } else {
        format!(
            "🔀 {committed} `{branch}`; its pull request #{} is updated: {}",
            pr.number, pr.url
        )
    }
}

/// The message of the commit `/pr` makes when the agent said nothing to take it from.
pub fn session_work_commit(session: &str) -> String {
    format!("Work of Switchboard session {session}")
}

/// A pull request's title when the session has no prompt to take it from.
pub fn pr_title_without_prompt(project: &str) -> String {
    format!("Work on {project} from Switchboard")
}

/// What a session's pull request says of itself (GitHub Markdown; its text already defused of
/// mentions).
pub struct PullRequestBody<'a> {
    pub platform: Platform,
    pub thread: &'a str,
    pub session: &'a str,
    pub requester: &'a str,
    /// Each prompt's author and first line, oldest first.
    pub prompts: &'a [(String, String)],
    /// Prompts left out.
    pub more: usize,
}

pub fn pr_body(body: &PullRequestBody<'_>) -> String {
    let mut text = format!(
        "Opened by Switchboard from {} thread `{}` (session `{}`) at the request of {}.\n\n",
        body.platform, body.thread, body.session, body.requester
    );
    if !body.prompts.is_empty() {
        text.push_str("## Prompts\n\n");
        for (author, line) in body.prompts {
            text.push_str(&format!("- {author}: {line}\n"));
        }
        if body.more > 0 {
            text.push_str(&format!("- … and {} more\n", body.more));
        }
    }
    text
}

pub fn pr_pushed_without_pull_request(branch: &str, reason: &str) -> String {
    format!(
        "⚠️ Pushed `{branch}`, but the pull request could not be opened: {}. Send the command \
         again to retry.",
        esc(reason)
    )
}

/// A GitHub issue's branch pushed after a mention, without its pull request.
pub fn planned_pr_not_opened(branch: &str, reason: &str) -> String {
    format!(
        "⚠️ Pushed `{}`, but its pull request could not be opened: {}. The next mention here \
         tries again.",
        branch.replace('`', ""),
        esc(reason)
    )
}

/// A GitHub issue's mention changed files, but pushing is off.
pub fn planned_pr_push_off() -> String {
    "No pull request was opened: pushing is off (`github.allow_push`), so the changes stay in \
     the checkout on the host."
        .to_owned()
}

pub fn pr_nothing(branch: &str) -> String {
    format!("Nothing to open a pull request with: `{branch}` has no changes of its own yet.")
}

/// Failing checks a thread is told about by name; the rest are counted.
const FAILING_CHECKS_SHOWN: usize = 5;

/// What a pushed commit's checks are named after in the thread: its pull request (`#12`), else
/// the commit (`9fceb02`).
pub fn checks_target(pr_number: Option<i64>, sha: &str) -> String {
    match pr_number {
        Some(number) => format!("#{number}"),
        None => format!("`{}`", sha.get(..7).unwrap_or(sha)),
    }
}

pub fn checks_passed(target: &str) -> String {
    format!("✅ Checks passed on {target}.")
}

/// One line per failing check (the first few), each with its link, and how to have them fixed.
pub fn checks_failed(spelling: &Spelling, target: &str, failing: &[FailingCheck]) -> String {
    let mut text = String::new();
    for check in failing.iter().take(FAILING_CHECKS_SHOWN) {
        let ended = match check.conclusion.as_str() {
            "failure" => "failed".to_owned(),
            other => format!("failed ({})", esc(other)),
        };
        text.push_str(&format!(
            "❌ check {} {ended} on {target}",
            esc(&check.name)
        ));
        match &check.url {
            Some(url) => text.push_str(&format!(": {}\n", esc(url))),
            None => text.push('\n'),
        }
    }
    if failing.len() > FAILING_CHECKS_SHOWN {
        let more = failing.len() - FAILING_CHECKS_SHOWN;
        text.push_str(&format!("… and {more} more failing check(s).\n"));
    }
    text.push_str(&format!(
        "\nSend {} to give the agent their reports and have it fix them.",
        spelling.command("fix_ci")
    ));
    text
}

pub fn checks_gave_up(target: &str, waited: Duration, pending: &[String]) -> String {
    let names: Vec<String> = pending.iter().map(|name| esc(name)).collect();
    format!(
        "⏳ Stopped waiting for the checks on {target} after {}; still running: {}.",
        duration(waited),
        names.join(", ")
    )
}

pub fn fix_ci_needs_push(spelling: &Spelling) -> String {
    format!(
        "Nothing to fix yet: this session has pushed no commit. Send {} to push its branch and \
         open its pull request; its checks are reported here when they end.",
        spelling.command("pr")
    )
}

pub fn fix_ci_nothing_failed(target: &str, pending: &[String]) -> String {
    if pending.is_empty() {
        return format!("No check failed on {target}: nothing to fix.");
    }
    let names: Vec<String> = pending.iter().map(|name| esc(name)).collect();
    format!(
        "No check failed on {target} so far; still running: {}. You are told here when they end.",
        names.join(", ")
    )
}

pub fn fix_ci_unreadable(target: &str, reason: &str) -> String {
    format!(
        "⚠️ Could not read the checks on {target}: {}. Try again in a moment.",
        esc(reason)
    )
}

pub fn pr_needs_project(spelling: &Spelling) -> String {
    format!(
        "This session works on no project, so there is no branch to push. Start one with `{}` \
         (see `{}`).",
        spelling.command("new PROJECT"),
        spelling.command("projects")
    )
}

pub fn pr_needs_github(project: &str) -> String {
    format!(
        "{} is fetched by URL; pull requests are opened for projects on the GitHub App \
         (`repo = \"owner/repo\"`).",
        esc(project)
    )
}

pub fn pr_while_running(spelling: &Spelling) -> String {
    format!(
        "A turn is running: the agent may be half-way through. Send it again when the turn \
         has ended, or `{}` it.",
        spelling.command("stop")
    )
}

pub fn pr_failed(reason: &str) -> String {
    format!("❌ Could not push the branch: {}", esc(reason))
}

/// Why `/new` could not place a session.
pub fn unplaced(unplaced: &Unplaced) -> String {
    let list = |names: &[String]| {
        if names.is_empty() {
            return "none".to_owned();
        }
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match unplaced {
        Unplaced::NotARepository(word) => format!(
            "{} is not `owner/repo` or `owner/repo@branch` (letters, digits, '-', '_' and '.').",
            esc(word)
        ),
        Unplaced::NoGitHubApp(repo) => format!(
            "{} is not a configured project, and without the GitHub App configured it cannot \
             be fetched.",
            esc(repo)
        ),
        Unplaced::Unknown {
            word,
            projects,
            hosts,
        } => format!(
            "There is no project or host named {}. Projects: {}. Hosts: {}.",
            esc(word),
            list(projects),
            list(hosts)
        ),
        Unplaced::TwoHosts => "Name a project (or `owner/repo`) first, then a host.".to_owned(),
        Unplaced::NotOnHost { host, hosts } => format!(
            "That project is checked out on {} only, not on {}.",
            list(hosts),
            esc(host)
        ),
        Unplaced::UnknownHost { host, hosts } => unknown_host(host, hosts),
    }
}

/// `codex`, or `claude (model `opus`)`.
fn agent_and_model(agent: AgentKind, model: Option<&str>) -> String {
    match model {
        Some(model) => format!("{agent} (model {})", code(model)),
        None => agent.to_string(),
    }
}

/// A name as inline code (a model's, say), whatever it holds.
fn code(name: &str) -> String {
    format!("`{}`", name.replace('`', ""))
}

/// `claude`, `codex`, `opencode`, as code.
fn agent_list() -> String {
    AgentKind::ALL.map(|a| code(a.as_str())).join(", ")
}

/// `/agent` where the thread has no session: nothing to switch; `/new NAME` starts one with it.
pub fn no_session_for_agent(spelling: &Spelling, agent: Option<AgentKind>) -> String {
    let new = match agent {
        Some(agent) => spelling.command(&format!("new {agent}")),
        None => spelling.command("new AGENT"),
    };
    format!(
        "No session in this thread yet. Send `{new}` to start one with that agent (or any message \
         to start one with the default). Agents: {}.",
        agent_list()
    )
}

/// `/agent` without a name: the session's agent and the choices.
pub fn agent_shown(spelling: &Spelling, agent: AgentKind) -> String {
    format!(
        "This session's agent is {}. Agents: {}. Send `{}` to switch: its next turn starts a \
         fresh conversation with that agent.",
        code(agent.as_str()),
        agent_list(),
        spelling.command("agent NAME")
    )
}

/// `/model` without a name: the session's model and what its agent offers.
pub fn model_shown(
    spelling: &Spelling,
    session: &SessionRow,
    models: &[String],
    default: Option<&str>,
) -> String {
    let current = match &session.model {
        Some(model) => code(model),
        None => default_model(default),
    };
    let choices = match models {
        [] => "any model its CLI takes (no list is configured)".to_owned(),
        _ => models
            .iter()
            .map(|m| code(m))
            .collect::<Vec<_>>()
            .join(", "),
    };
    format!(
        "This session's model is {current} ({}). Models: {choices}. Send `{}` to change it \
         for the next turns, or `{}` for the agent's default.",
        session.agent,
        spelling.command("model NAME"),
        spelling.command(&format!("model {MODEL_RESET}"))
    )
}

/// The model a session gets when it names none.
fn default_model(default: Option<&str>) -> String {
    match default {
        Some(model) => format!("the agent's default, {}", code(model)),
        None => "the agent's default".to_owned(),
    }
}

/// What a switch of agent or model did, or why it was refused.
pub fn switch_outcome(spelling: &Spelling, outcome: &Result<Switched, Refused>) -> String {
    match outcome {
        Ok(switched) => switched_text(switched),
        Err(Refused(reason)) => format!(
            "{}. Nothing changed; send `{}` for the choices.",
            esc(reason),
            spelling.command("model")
        ),
    }
}

fn switched_text(switched: &Switched) -> String {
    match switched {
        Switched::SameAgent(agent) => format!(
            "This session already talks to {}: nothing changed, the conversation goes on.",
            code(agent.as_str())
        ),
        Switched::Agent {
            from,
            to,
            running,
            queued,
        } => {
            let mut text = format!(
                "🔀 Switched this session from {} to {}. Its next turn starts a fresh \
                 conversation with {to} (in the same workspace); the {from} conversation is left \
                 behind.",
                code(from.as_str()),
                code(to.as_str())
            );
            if *running {
                text.push_str(&format!(" The running turn finishes with {from}."));
            }
            text.push_str(&queued_go(*queued, &to.to_string()));
            text
        }
        Switched::Model {
            agent,
            from,
            to,
            default,
            running,
            queued,
        } => {
            let name = |model: &Option<String>| match model {
                Some(model) => code(model),
                None => default_model(default.as_deref()),
            };
            let mut text = format!(
                "🔀 The next turns of this session ask {agent} for {} (was {}); the conversation \
                 goes on.",
                name(to),
                name(from)
            );
            if *running {
                text.push_str(" The running turn finishes with the model it started with.");
            }
            let to = match to {
                Some(model) => code(model),
                None => "the default".to_owned(),
            };
            text.push_str(&queued_go(*queued, &to));
            text
        }
    }
}

/// ` The 2 queued prompts go to codex.`; empty when none wait.
fn queued_go(queued: i64, to: &str) -> String {
    match queued {
        0 => String::new(),
        1 => format!(" The queued prompt goes to {to}."),
        n => format!(" The {n} queued prompts go to {to}."),
    }
}

pub fn no_session() -> String {
    "No session in this thread yet: send a message to start one.".to_owned()
}

pub fn nothing_running(dropped: usize) -> String {
    match dropped {
        0 => "Nothing is running here.".to_owned(),
        n => format!(
            "Nothing is running here. Dropped {n} queued prompt{}.",
            plural(n)
        ),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

pub fn dropped_from_queue(spelling: &Spelling) -> String {
    format!(
        "🗑 Dropped from the queue (`{}`).",
        spelling.command("stop all")
    )
}

/// `new HOST` where the platform decides the host (GitHub: `github.host`).
pub fn host_pinned(spelling: &Spelling, host: &str) -> String {
    format!(
        "Turns here always run on {} (the operator's choice). Send `{}` to start a fresh \
         session there.",
        esc(host),
        spelling.command("new")
    )
}

pub fn stopped(host: &str, dropped: usize) -> String {
    let mut text = format!(
        "🛑 Stopped the running turn; its processes on {} are gone.",
        esc(host)
    );
    if dropped > 0 {
        text.push_str(&format!(
            " Dropped {dropped} queued prompt{}.",
            plural(dropped)
        ));
    }
    text
}

pub fn stopped_before_start(dropped: usize) -> String {
    let mut text = "🛑 Stopped the turn before the agent started.".to_owned();
    if dropped > 0 {
        text.push_str(&format!(
            " Dropped {dropped} queued prompt{}.",
            plural(dropped)
        ));
    }
    text
}

pub fn stop_failed(spelling: &Spelling, host: &str, reason: &str) -> String {
    format!(
        "⚠️ Could not stop the turn on {}: {}. It may still be running there; try `{}` again.",
        esc(host),
        esc(reason),
        spelling.command("stop")
    )
}

pub fn stop_stuck(host: &str) -> String {
    format!(
        "⚠️ Signalled the turn on {}, but some of its processes are still alive after SIGKILL.",
        esc(host)
    )
}

/// What `/status` shows.
pub struct StatusView<'a> {
    pub session: &'a SessionRow,
    /// The model the session's agent uses when the session names none.
    pub default_model: Option<&'a str>,
    pub running: Option<&'a TurnRow>,
    pub running_for: Option<Duration>,
    pub queued: i64,
    pub last: Option<&'a TurnRow>,
    pub totals: &'a SessionTotals,
    pub health: &'a Health,
    /// The session's own workspace as found on its host (`None`: it owns none, or the host
    /// could not be asked).
    pub workspace: Option<&'a WorkspaceState>,
}

pub fn status(view: &StatusView<'_>) -> String {
    let s = view.session;
    let mut text = format!(
        "**Session** `{}`\n- Host: {} · Agent: {} · Model: {}\n- Agent session: {}\n",
        s.id.short(),
        esc(&s.host),
        s.agent,
        s.model
            .as_deref()
            .map_or_else(|| default_model(view.default_model), code),
        s.agent_session_id
            .as_deref()
            .map(|id| format!("`{}`", id.replace('`', "")))
            .unwrap_or_else(|| "none yet (the next prompt starts one)".to_owned()),
    );
    match (view.running, view.running_for) {
        (Some(turn), Some(elapsed)) => {
            text.push_str(&format!("- State: running for {}", duration(elapsed)));
            text.push_str(&other_choice(s, turn));
            if let Some(activity) = &turn.activity {
                text.push_str(&format!(" — {activity}"));
            }
            text.push('\n');
        }
        _ => text.push_str("- State: idle\n"),
    }
    text.push_str(&format!("- Queue: {} waiting\n", view.queued));
    let removed = s.delivery.workspace_removed_at.is_some();
    if let Some(line) = workspace_line(s.workspace.as_ref(), removed, view.workspace) {
        text.push_str(&format!("- Workspace: {line}\n"));
    }
    if let Some(last) = view.last {
        let outcome = last.outcome.as_ref().map(|o| o.name()).unwrap_or("unknown");
        text.push_str(&format!(
            "- Last turn: {}, {}, {}",
            outcome.replace('_', " "),
            last.duration_ms
                .map(duration_ms)
                .unwrap_or_else(|| "?".into()),
            last.cost_usd
                .map(cost)
                .unwrap_or_else(|| "no cost reported".into()),
        ));
        match &last.changes {
            Some(stats) if stats.files > 0 || stats.commits > 0 => {
                text.push_str(&format!(" · changed {}", change_figures(stats)));
            }
            _ => {}
        }
        text.push_str(&other_choice(s, last));
        text.push('\n');
    }
    let t = view.totals;
    text.push_str(&format!(
        "- Total: {} turn{}, {} · tokens {} in, {} out\n\n",
        t.turns,
        plural(t.turns as usize),
        cost(s.total_cost_usd),
        t.input_tokens,
        t.output_tokens
    ));
    text.push_str(&health_line(&s.host, view.health));
    text
}

/// ` · with codex (model `o3`)` when a turn ran with another agent or model than its session
/// now has (it switched since); empty otherwise.
fn other_choice(session: &SessionRow, turn: &TurnRow) -> String {
    match &turn.agent {
        Some(choice) if choice.agent != session.agent || choice.model != session.model => {
            format!(
                " · with {}",
                agent_and_model(choice.agent, choice.model.as_deref())
            )
        }
        _ => String::new(),
    }
}

fn health_line(host: &str, h: &Health) -> String {
    let host = esc(host);
    let Some(latency) = h.latency else {
        return format!(
            "**Host {host}**: unreachable — {}",
            esc(h.error.as_deref().unwrap_or("no answer"))
        );
    };
    let mut parts = vec![format!("reachable ({} ms)", latency.as_millis())];
    if let Some(load) = &h.load {
        parts.push(format!("load {}", esc(load)));
    }
    if let (Some(avail), Some(total)) = (h.mem_available_kb, h.mem_total_kb) {
        parts.push(format!("memory {} free of {}", gib(avail), gib(total)));
    }
    if let Some(free) = h.disk_free_kb {
        parts.push(format!("{} free in the workspace", gib(free)));
    }
    parts.push(match &h.agent_version {
        Some(v) => format!("agent {}", esc(v)),
        None => "agent not installed".to_owned(),
    });
    format!("**Host {host}**: {}", parts.join(" · "))
}

fn gib(kb: u64) -> String {
    format!("{:.1} GiB", kb as f64 / (1024.0 * 1024.0))
}

pub fn sessions(list: &[SessionSummary], now_ms: i64) -> String {
    if list.is_empty() {
        return "No sessions in this chat yet.".to_owned();
    }
    let mut text = String::from("**Sessions in this chat** (newest first)\n");
    for summary in list {
        let s = &summary.session;
        let state = if summary.running > 0 {
            "running".to_owned()
        } else if summary.queued > 0 {
            format!("{} queued", summary.queued)
        } else {
            "idle".to_owned()
        };
        let current = if s.active { " · **current**" } else { "" };
        text.push_str(&format!(
            "- `{}` on {} · {} turn{} · {} · last active {} ago · {}{}\n",
            s.id.short(),
            esc(&s.host),
            summary.turns,
            plural(summary.turns as usize),
            state,
            duration_ms(now_ms - s.updated_at),
            cost(s.total_cost_usd),
            current
        ));
    }
    text
}

/// `/projects`: every configured project, the one `thread`'s chat defaults to marked.
pub fn projects(projects: &[Project], thread: &ThreadRef) -> String {
    if projects.is_empty() {
        return "No projects are configured: add `[projects.NAME]` to the config.".to_owned();
    }
    let code = |text: &str| format!("`{}`", text.replace('`', ""));
    let mut text = String::from("**Projects**\n");
    for project in projects {
        let branch = match &project.default_branch {
            Some(branch) => format!("branch {}", code(branch)),
            None => "the remote's default branch".to_owned(),
        };
        let hosts: Vec<String> = project.hosts.iter().map(|h| code(h)).collect();
        let default = if project.is_default_for(thread) {
            " · **this chat's default**"
        } else {
            ""
        };
        text.push_str(&format!(
            "- **{}** · {} · {branch} · on {}{default}\n",
            esc(&project.name),
            code(&project.repo),
            hosts.join(", ")
        ));
    }
    text
}

/// `/schedule` refused: the thread has `limit` schedules already.
pub fn schedules_full(limit: usize) -> String {
    format!("This thread has {limit} schedules already; remove one first.")
}

/// `/schedule` made schedule `id` (`description` from [`schedule_description`]).
pub fn scheduled(id: &str, description: &str, unschedule: &str) -> String {
    format!("⏰ Scheduled `{id}`: {description}. Remove it with `{unschedule}`.")
}

/// `/schedules` in a thread without any.
pub fn no_schedules(example: &str) -> String {
    format!("No schedules in this thread. Make one with `{example}`.")
}

/// `/schedules`: each schedule's id, whether the configuration made it, and its description.
pub fn schedules(listed: &[(&str, bool, String)]) -> String {
    let mut text = String::from("**Schedules in this thread**\n");
    for (id, configured, description) in listed {
        let owner = if *configured { " (configured)" } else { "" };
        text.push_str(&format!("- `{id}`{owner}: {description}\n"));
    }
    text
}

/// `/unschedule ID` removed it.
pub fn schedule_removed(id: &str) -> String {
    format!("Removed the schedule `{}`.", esc(id))
}

/// `/unschedule ID` of a configured schedule.
pub fn schedule_configured(id: &str) -> String {
    format!(
        "The schedule `{}` is in the configuration (`[[schedules]]`): remove it there.",
        esc(id)
    )
}

/// `/unschedule ID` of a schedule the thread does not have.
pub fn no_such_schedule(id: &str, list: &str) -> String {
    format!(
        "This thread has no schedule `{}`. Send `{list}` for its schedules.",
        esc(id)
    )
}

/// "`0 9 * * 1-5` (Europe/Berlin), next 2026-12-07 09:00 CET: run the checks"; `next` is
/// `None` for a schedule with no slot ahead.
pub fn schedule_description(
    cron: &str,
    time_zone: &str,
    next: Option<&str>,
    prompt: &str,
) -> String {
    format!(
        "`{cron}` ({}), next {}: {}",
        esc(time_zone),
        next.unwrap_or("never"),
        esc(prompt)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::changes::{Commit, FileChange};

    fn file(path: &str, kind: ChangeKind, lines: Option<(u64, u64)>) -> FileChange {
        FileChange {
            path: path.into(),
            renamed_from: None,
            kind,
            lines,
            submodule: None,
        }
    }

    #[test]
    fn workspace_changes_are_summed_up_then_listed() {
        let mut changes = Changes {
            files: vec![
                file("src/a`b.rs", ChangeKind::Modified, Some((3, 1))),
                file("new.rs", ChangeKind::Added, Some((10, 0))),
                file("gone.rs", ChangeKind::Deleted, Some((0, 4))),
                file("logo.png", ChangeKind::Added, None),
                FileChange {
                    renamed_from: Some("old.txt".into()),
                    ..file("new.txt", ChangeKind::Renamed, Some((0, 0)))
                },
                FileChange {
                    submodule: Some("0123456789abcdef0123456789abcdef01234567".into()),
                    ..file("vendor/lib", ChangeKind::Modified, None)
                },
            ],
            commits: vec![Commit {
                id: "89abcdef0123456789abcdef0123456789abcdef".into(),
                subject: "Fix *it*".into(),
            }],
            patch: String::new(),
        };
        assert_eq!(
            workspace_changes(&changes),
            "**Changes:** 6 files, +13 −5 · 1 new commit\n\
             - `src/ab.rs` (+3 −1)\n\
             - `new.rs` (new, +10 −0)\n\
             - `gone.rs` (deleted)\n\
             - `logo.png` (binary)\n\
             - `old.txt` → `new.txt` (+0 −0)\n\
             - `vendor/lib` (submodule at 0123456)\n\
             - commit `89abcde` Fix \\*it\\*"
        );
        changes.files = (0..20)
            .map(|n| file(&format!("f{n}"), ChangeKind::Modified, Some((1, 1))))
            .collect();
        changes.commits.clear();
        let text = workspace_changes(&changes);
        assert_eq!(text.lines().count(), 1 + CHANGED_FILES_SHOWN + 1, "{text}");
        assert!(text.ends_with("- …and 5 more"), "{text}");
        assert_eq!(workspace_changes(&Changes::default()), "No files changed.");
    }

    /// A workspace not on its host is either still to be made or removed by the clean-up.
    #[test]
    fn a_missing_workspace_says_whether_it_was_removed() {
        let gone = WorkspaceState::default();
        let line = |removed| workspace_line(Some(&SessionWorkspace::Scratch), removed, Some(&gone));
        assert_eq!(
            line(false).as_deref(),
            Some("a directory of its own · not made yet (the next prompt makes it)")
        );
        assert_eq!(
            line(true).as_deref(),
            Some(
                "a directory of its own · removed when the session was idle (the next prompt \
                 makes it again)"
            )
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(Duration::from_secs(0)), "0s");
        assert_eq!(duration(Duration::from_secs(59)), "59s");
        assert_eq!(duration(Duration::from_secs(65)), "1m 05s");
        assert_eq!(duration(Duration::from_secs(7380)), "2h 03m");
    }

    #[test]
    fn outside_text_cannot_inject_markup() {
        let msg = outcome_message(
            &Spelling::Slash,
            &Outcome::HostUnreachable {
                reason: "*boom* [x](http://evil)".into(),
            },
            "h_o_s_t",
        );
        assert!(msg.contains(&esc("*boom* [x](http://evil)")));
        assert!(msg.contains(&esc("h_o_s_t")));
    }

    #[test]
    fn every_failure_says_what_happened() {
        let cases = [
            (Outcome::MaxTurns, "turn limit"),
            (
                Outcome::SessionNotFound {
                    agent_session_id: "abc".into(),
                },
                "context is lost",
            ),
            (Outcome::Cancelled, "Cancelled"),
            (
                Outcome::TimedOut { after_secs: 60 },
                "longer than the limit of 1m 00s",
            ),
            (
                Outcome::AgentNotInstalled {
                    command: "claude".into(),
                },
                "not installed",
            ),
            (
                Outcome::HostKeyMismatch {
                    presented: "SHA256:x".into(),
                },
                "unexpected host key",
            ),
            (
                Outcome::ApiError {
                    message: "API Error: 500".into(),
                    status: Some(500),
                },
                "HTTP 500",
            ),
            (
                Outcome::Crashed {
                    exit_code: Some(143),
                    stderr_tail: "killed".into(),
                },
                "exit status 143",
            ),
        ];
        for (outcome, expected) in cases {
            let text = outcome_message(&Spelling::Slash, &outcome, "devbox");
            assert!(text.contains(expected), "{outcome:?}: {text}");
            assert!(final_status(&outcome, Duration::from_secs(3), None, 0).contains("3s"));
        }
    }

    #[test]
    fn projects_are_listed_with_this_chats_default_marked() {
        let thread = ThreadRef {
            platform: Platform::Telegram,
            chat: "-100".into(),
            topic: Some("3".into()),
        };
        assert_eq!(
            projects(&[], &thread),
            "No projects are configured: add `[projects.NAME]` to the config."
        );
        let web = Project {
            name: "web".into(),
            repo: "acme/web".into(),
            default_branch: Some("main".into()),
            hosts: vec!["devbox".into(), "local".into()],
            setup: None,
            open_pr: Default::default(),
            default_for: vec![(Platform::Telegram, "-100".into())],
            ..Project::default()
        };
        let docs = Project {
            name: "docs".into(),
            repo: "https://git.example.com/docs.git".into(),
            default_branch: None,
            hosts: vec!["local".into()],
            setup: None,
            open_pr: Default::default(),
            default_for: vec![(Platform::Slack, "-100".into())],
            ..Project::default()
        };
        assert_eq!(
            projects(&[docs, web], &thread),
            "**Projects**\n\
             - **docs** · `https://git.example.com/docs.git` · the remote's default branch · on \
             `local`\n\
             - **web** · `acme/web` · branch `main` · on `devbox`, `local` · **this chat's \
             default**\n"
        );
    }

    #[test]
    fn help_lists_every_command() {
        let hosts = ["local".to_owned(), "devbox".to_owned()];
        let text = help(
            Platform::Telegram,
            &Spelling::Slash,
            HostChoice::Any {
                default: "local",
                hosts: &hosts,
            },
        );
        for c in COMMANDS {
            assert!(text.contains(&format!("/{}", c.name)));
        }
        assert!(text.contains("`devbox`"));
        let slack = help(
            Platform::Slack,
            &Spelling::of(Platform::Slack),
            HostChoice::Any {
                default: "local",
                hosts: &hosts,
            },
        );
        assert!(slack.contains("`@switchboard stop [all]`"), "{slack}");
        let invalid = invalid(
            &Spelling::of(Platform::Slack),
            &Invalid::Command(CommandError::Unknown("frob".into())),
        );
        assert!(invalid.contains("`@switchboard frob`"), "{invalid}");
        assert!(invalid.contains("`@switchboard help`"), "{invalid}");
    }

    /// Every reply that names a command names it as the platform spells it: on GitHub a
    /// mention of the App's handle, never a slash command GitHub does not have.
    /// A switch says what happens to the running turn and the queued prompts, and a refusal
    /// that nothing changed, in the thread's own spelling.
    #[test]
    fn a_switch_says_which_turns_it_reaches() {
        let slack = Spelling::Mention("switchboard".into());
        let switched = Switched::Agent {
            from: AgentKind::Claude,
            to: AgentKind::Codex,
            running: true,
            queued: 1,
        };
        let text = switch_outcome(&slack, &Ok(switched));
        assert!(text.contains("fresh conversation with codex"), "{text}");
        assert!(
            text.contains("The running turn finishes with claude."),
            "{text}"
        );
        assert!(text.contains("The queued prompt goes to codex."), "{text}");
        let switched = Switched::Agent {
            from: AgentKind::Claude,
            to: AgentKind::OpenCode,
            running: false,
            queued: 2,
        };
        let text = switch_outcome(&slack, &Ok(switched));
        assert!(!text.contains("running turn"), "{text}");
        assert!(
            text.contains("The 2 queued prompts go to opencode."),
            "{text}"
        );
        let model = Switched::Model {
            agent: AgentKind::Claude,
            from: None,
            to: Some("opus".into()),
            default: Some("sonnet".into()),
            running: false,
            queued: 0,
        };
        let text = switch_outcome(&slack, &Ok(model));
        assert!(
            text.contains("ask claude for `opus` (was the agent's default, `sonnet`)"),
            "{text}"
        );
        let refused = Refused("\"x\" is not one of claude's models: a, b".into());
        let text = switch_outcome(&slack, &Err(refused));
        assert!(
            text.contains("Nothing changed; send `@switchboard model` for the choices."),
            "{text}"
        );
        let none = no_session_for_agent(&slack, Some(AgentKind::Codex));
        assert!(none.contains("`@switchboard new codex`"), "{none}");
    }

    #[test]
    fn replies_name_commands_as_the_platform_spells_them() {
        let github = Spelling::Mention("sb-app".into());
        let over_budget = Outcome::OverBudget {
            budget: Budget::Session,
            spent_usd: 2.0,
            limit_usd: 1.0,
        };
        let unreachable = Outcome::HostUnreachable {
            reason: "refused".into(),
        };
        let texts = [
            outcome_message(&github, &over_budget, "devbox"),
            outcome_message(&github, &unreachable, "devbox"),
            queue_full(&github, 20),
            dropped_from_queue(&github),
            stop_failed(&github, "devbox", "gone"),
            invalid(&github, &Invalid::EmptyMention),
            help(Platform::GitHub, &github, HostChoice::Pinned("devbox")),
        ];
        for text in &texts {
            assert!(text.contains("`@sb-app "), "{text}");
            assert!(!text.contains("`/"), "a slash command on GitHub: {text}");
        }
        assert!(texts[0].contains("Send `@sb-app new`"), "{}", texts[0]);
        assert!(texts[2].contains("`@sb-app stop all`"), "{}", texts[2]);
        assert!(!texts[6].contains("screenshot"), "{}", texts[6]);
        assert!(
            texts[6]
                .contains("- `@sb-app new [agent]` — Start a fresh agent conversation (on devbox")
                && !texts[6].contains("[host]"),
            "{}",
            texts[6]
        );
        assert!(outcome_message(&Spelling::Slash, &over_budget, "devbox").contains("Send `/new`"));
    }
}
