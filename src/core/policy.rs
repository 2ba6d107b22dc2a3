//! What each platform decides for itself, behind one trait.
//!
//! The core runs every platform's events through the same pipeline — admit, prepare, queue,
//! run, conclude — but three steps differ by platform, and [`Policy`] is where they plug in:
//!
//! - **admit**: who may ask. Telegram checks its allowlists; GitHub asks the API whether the
//!   commenter has write access, and checks bot identities exactly.
//! - **prepare**: what the agent gets. A chat prompt goes as typed; a GitHub mention becomes the
//!   request plus the pull request's context (clearly delimited as untrusted) and a Git checkout
//!   of its head to work in; a dependency pull request becomes a review plan, whose facts the
//!   turn gathers on the host before its agent starts; a Slack mention that opens a session in a
//!   thread people already wrote in brings their messages along, delimited the same way. Preparing only reads the platform: it
//!   runs while the router holds the thread, so nothing slow belongs here.
//! - **present**: how a turn ends in the thread. Chats edit the status message and post the
//!   answer as a reply; GitHub replaces its tracking comment with the answer.
//!
//! Policies live with their platform (src/bots/<platform>); the core only sees this trait.

use anyhow::Result;

use super::replies;
use crate::config::Secret;
use crate::domain::admission::Admission;
use crate::domain::checks::ChecksSummary;
use crate::domain::command::Spelling;
use crate::domain::controls::{Button, ButtonAction};
use crate::domain::ids::TurnId;
use crate::domain::inbound::{Inbound, IncomingFile};
use crate::domain::outbound::{Attachment, Outbound, OutboundOp, Post, Reaction};
use crate::domain::outbox_key::OutboxKey;
use crate::domain::outcome::Outcome;
use crate::domain::review::ReviewPlan;
use crate::domain::thread::{Platform, ThreadRef};
use crate::domain::workspace::{Credential, Workspace};
use crate::store::TurnRow;
use futures_util::future::BoxFuture;

/// A platform's decisions.
pub trait Policy: Send + Sync + 'static {
    fn platform(&self) -> Platform;

    /// Whether the event's author may have it acted on.
    fn admit<'a>(&'a self, event: &'a Inbound) -> BoxFuture<'a, Result<Admission>>;

    /// What the agent gets for an admitted prompt; `None` when there is nothing to do (a
    /// dependency review whose dependency set has not changed, say). `opens_session` says the
    /// thread has no session yet: this prompt's turn will be its first. Chats send the prompt as
    /// typed.
    fn prepare<'a>(
        &'a self,
        _event: &'a Inbound,
        text: &'a str,
        _opens_session: bool,
    ) -> BoxFuture<'a, Result<Option<Prepared>>> {
        let prepared = Prepared {
            prompt: text.to_owned(),
            workspace: None,
            review: None,
            host: None,
        };
        Box::pin(async move { Ok(Some(prepared)) })
    }

    /// The messages that acknowledge a queued prompt; `ahead` prompts are before it.
    fn acknowledge(&self, event: &Inbound, turn: &TurnId, ahead: i64) -> Vec<Outbound> {
        chat_acknowledgement(event, turn, ahead)
    }

    /// The messages that end a turn.
    fn present(&self, ending: &Ending<'_>) -> Vec<Outbound> {
        chat_ending(ending)
    }

    /// The bytes of a file a user sent; `None` when it turns out larger than `max` bytes.
    fn fetch<'a>(
        &'a self,
        file: &'a IncomingFile,
        _max: u64,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>>> {
        Box::pin(async move {
            anyhow::bail!(
                "{} cannot be fetched: files sent on {} are not supported",
                file.name,
                self.platform()
            )
        })
    }

    /// Answers a button press to who pressed it only (Telegram's `answerCallbackQuery`): what
    /// it did, or why not. Every press is answered once it is handled.
    fn answer_press<'a>(
        &'a self,
        _event: &'a Inbound,
        _text: &'a str,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }

    /// How commands are typed here (named in replies: `/new`, `@switchboard new`).
    fn spelling(&self) -> Spelling {
        Spelling::of(self.platform())
    }

    /// The host every turn here runs on, when the platform decides it rather than the thread
    /// (GitHub: `github.host`); `new` then starts a fresh session there and takes no other.
    fn pinned_host(&self) -> Option<&str> {
        None
    }

    /// A fresh secret for a credential a workspace names (an installation token, say).
    fn credential<'a>(&'a self, credential: &'a Credential) -> BoxFuture<'a, Result<Secret>> {
        Box::pin(async move { anyhow::bail!("no credential {credential} on this platform") })
    }

    /// Where `repo` (`owner/repo`) is fetched from, and a fresh token to fetch and push it with:
    /// the platform that hosts repositories (GitHub) answers; others have none.
    fn repository<'a>(&'a self, repo: &'a str) -> BoxFuture<'a, Result<RepositoryAccess>> {
        Box::pin(async move { anyhow::bail!("{repo} is not a repository on {}", self.platform()) })
    }

    /// Opens a pull request of `repo` from `branch` into `base`, or finds the one already open
    /// from that branch: the platform that hosts repositories (GitHub) does it.
    fn open_pull_request<'a>(
        &'a self,
        request: &'a PullRequestAsk,
    ) -> BoxFuture<'a, Result<OpenedPullRequest>> {
        Box::pin(async move {
            anyhow::bail!(
                "{} has no pull requests on {}",
                request.repo,
                self.platform()
            )
        })
    }

    /// How the CI checks of commit `sha` of `repo` (`owner/repo`) stand: the platform that hosts
    /// repositories (GitHub, from its check runs) answers.
    fn commit_checks<'a>(
        &'a self,
        repo: &'a str,
        sha: &'a str,
    ) -> BoxFuture<'a, Result<ChecksSummary>> {
        Box::pin(async move { anyhow::bail!("{repo}@{sha} has no checks on {}", self.platform()) })
    }

    /// How often a turn's progress message may be refreshed: the platform's limit on edits to
    /// one chat. One a second by default, which is Telegram's ("about one message a second" in a
    /// chat), Slack's (one a second in a channel), Discord's (five edits per five seconds in a
    /// channel) and GitHub's (one write a second in a thread); the web console has no limit and
    /// refreshes at the same pace, which a reader follows easily. `defaults.progress_interval`
    /// overrides it.
    fn progress_interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(1)
    }
}

/// How to reach a repository.
pub struct RepositoryAccess {
    /// The `https://` URL git fetches (no credentials in it).
    pub clone_url: String,
    pub default_branch: String,
    /// Given to git for the fetch and the push only (`runner::git`).
    pub token: Secret,
}

/// A pull request to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequestAsk {
    /// `owner/repo`.
    pub repo: String,
    pub branch: String,
    pub base: String,
    pub title: String,
    pub body: String,
}

/// The pull request of a branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedPullRequest {
    pub number: u64,
    pub url: String,
    /// Opened now; `false`: it was open already.
    pub created: bool,
}

/// What the agent gets for a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The prompt as the agent reads it.
    pub prompt: String,
    /// Where the agent works, when it is more than the session's working directory.
    pub workspace: Option<Workspace>,
    /// A dependency review to run before the agent: the turn's review phase gathers its facts
    /// on the host and writes the prompt (see `reviews`); its findings come back to
    /// [`Policy::present`] as the turn's memo.
    pub review: Option<ReviewPlan>,
    /// The host a new session for this thread goes to (default: `defaults.host`).
    pub host: Option<String>,
}

/// How a turn ended, for [`Policy::present`].
#[derive(Debug)]
pub struct Ending<'a> {
    pub turn: &'a TurnRow,
    pub thread: &'a ThreadRef,
    /// The one-line status (`✅ Done in 12s · $0.04`).
    pub status: String,
    /// The answer, or what went wrong and what to do.
    pub message: String,
    pub outcome: &'a Outcome,
    /// Files that go with the answer (the turn's patch).
    pub attachments: Vec<Attachment>,
    /// The controls under the answer: Retry, and Open PR when the workspace has changes.
    pub buttons: Vec<Button>,
}

/// The chat way to acknowledge a prompt: a quiet reply that becomes the turn's progress and
/// status message.
pub fn chat_acknowledgement(event: &Inbound, turn: &TurnId, ahead: i64) -> Vec<Outbound> {
    // Stop while it runs, Cancel while it waits (its first progress brings Stop).
    let (text, button) = if ahead == 0 {
        (replies::turn_starting(), ButtonAction::Stop(turn.clone()))
    } else {
        (
            replies::turn_queued(ahead),
            ButtonAction::Cancel(turn.clone()),
        )
    };
    vec![Outbound {
        key: OutboxKey::Status(turn.clone()),
        thread: event.thread.clone(),
        op: OutboundOp::Post(
            Post::text(text)
                .replying_to(event.message_id.clone())
                .silent()
                .with_buttons(vec![button.button()]),
        ),
    }]
}

/// The chat way to end a turn: the answer follows as a reply to the prompt (as a document too,
/// if the platform needs one for a long answer), and the status message shows the outcome right
/// after the answer's first message, before its files.
pub fn chat_ending(ending: &Ending<'_>) -> Vec<Outbound> {
    let turn = ending.turn;
    let status_key = OutboxKey::StatusEdit(turn.id.clone());
    let status = Outbound {
        key: status_key.clone(),
        thread: ending.thread.clone(),
        op: OutboundOp::Edit {
            target: OutboxKey::Status(turn.id.clone()),
            markdown: ending.status.clone(),
            progress: false,
            buttons: Vec::new(),
        },
    };
    let message = Post::text(ending.message.clone())
        .replying_to(turn.reply_to.clone())
        .document_name(format!("answer-{}", turn.id.short()))
        .attach(ending.attachments.clone())
        .with_buttons(ending.buttons.clone())
        .with_status(status_key, 1);
    let result = Outbound {
        key: OutboxKey::Result(turn.id.clone()),
        thread: ending.thread.clone(),
        op: OutboundOp::Post(message),
    };
    vec![status, result]
}

/// [`chat_acknowledgement`] with 👀 on the request first, for platforms with reactions
/// (Slack, Discord). `reactable` says which message ids can take one.
pub fn reacting_acknowledgement(
    event: &Inbound,
    turn: &TurnId,
    ahead: i64,
    reactable: impl Fn(&str) -> bool,
) -> Vec<Outbound> {
    let eyes = event
        .message_id
        .as_deref()
        .filter(|m| reactable(m))
        .map(|message| {
            react(
                &event.thread,
                OutboxKey::Reaction(turn.clone()),
                message,
                Reaction::Eyes,
            )
        });
    eyes.into_iter()
        .chain(chat_acknowledgement(event, turn, ahead))
        .collect()
}

/// [`chat_ending`] and then ✅ or ❌ on the request, for platforms with reactions.
pub fn reacting_ending(ending: &Ending<'_>, reactable: impl Fn(&str) -> bool) -> Vec<Outbound> {
    let reaction = match ending.outcome {
        Outcome::Success { .. } => Reaction::Done,
        _ => Reaction::Failed,
    };
    let mark = ending
        .turn
        .reply_to
        .as_deref()
        .filter(|m| reactable(m))
        .map(|message| {
            react(
                ending.thread,
                OutboxKey::EndingReaction(ending.turn.id.clone()),
                message,
                reaction,
            )
        });
    chat_ending(ending).into_iter().chain(mark).collect()
}

fn react(thread: &ThreadRef, key: OutboxKey, message: &str, reaction: Reaction) -> Outbound {
    Outbound {
        key,
        thread: thread.clone(),
        op: OutboundOp::React {
            message_id: message.to_owned(),
            reaction,
        },
    }
}
