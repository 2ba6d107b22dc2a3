//! CI feedback: after `/pr` pushes a commit, its thread is told once how the commit's checks
//! ended — "✅ Checks passed on #12", or each failing check by name with its link.
//!
//! Every push is a watch in the store (`store::check_watches`), so a restart forgets none. This
//! loop reads the due watches' checks through the platform that hosts the repository
//! ([`Policy::commit_checks`](super::policy::Policy::commit_checks)). Webhooks make it quick:
//! a `check_run` or `check_suite` completed delivery for the commit makes its watch due now
//! ([`checks_reported`]). Without them (an App not subscribed, a delivery lost) it polls: first
//! `workspaces.checks_poll` after the push, then twice as long after each read that finds
//! checks still running, at most [`MAX_INTERVAL`] apart.
//!
//! When it stops: every check run has ended (told: passed, or which failed); checks still run
//! [`GIVE_UP_AFTER`] the push (told so, with their names); or the commit has no check run at all
//! [`NO_CHECKS_AFTER`] the push — a repository without CI, where silence is right, so nothing is
//! said. Checks that cannot be read at all (the API failing, the App gone from the config) are
//! retried on the same backoff and, after [`GIVE_UP_AFTER`], left unsaid; each failure is logged. The message and the watch's end are one transaction under a key of its own per session
//! and commit, so the thread hears once whatever crashes.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, anyhow};

use super::Core;
use super::replies;
use crate::domain::checks::{ChecksSummary, FailingCheck};
use crate::domain::ids::{SessionId, now_ms};
use crate::domain::outbound::{Outbound, OutboundOp, Post};
use crate::domain::outbox_key::OutboxKey;
use crate::domain::thread::Platform;
use crate::store::{CheckWatch, check_watches, outbox};

/// The longest wait between two reads of a commit's checks.
pub const MAX_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// Checks still running this long after the push are given up on, and the thread told so.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(2 * 3600);
/// A commit with no check run this long after its push has no CI: the watch ends silently.
pub const NO_CHECKS_AFTER: Duration = Duration::from_secs(30 * 60);
/// How often the loop looks for due watches without a wake-up (watches stored or nudged by
/// another replica sharing the database).
const IDLE: Duration = Duration::from_secs(60);
/// Watches read per round.
const BATCH: i64 = 32;

/// What to do with a watch after reading its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Next {
    /// Read again after this long.
    Wait(Duration),
    /// Tell the thread, and stop watching.
    Tell(Report),
    /// Stop watching without a word.
    Stop,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Report {
    Passed,
    Failed(Vec<FailingCheck>),
    GaveUp { pending: Vec<String> },
}

/// Watches `sha` of `repo`, just pushed by `session`, and wakes the loop.
pub(super) async fn watch(core: &Core, session: &SessionId, repo: &str, sha: &str) -> Result<()> {
    let now = now_ms();
    let first = now + millis(core.workspaces.checks_poll);
    core.store
        .watch_checks(session, repo, sha, now, first)
        .await?;
    core.checks_moved();
    Ok(())
}

/// A webhook said checks of `sha` in `repo` moved: its watches are read now. Only a nudge —
/// what the thread is told is read from the platform's API, never taken from the delivery.
pub async fn checks_reported(core: &Core, repo: &str, sha: &str) -> Result<()> {
    if core.store.nudge_check_watches(repo, sha, now_ms()).await? > 0 {
        core.checks_moved();
    }
    Ok(())
}

/// Reads due watches forever.
pub async fn run(core: Arc<Core>) -> Result<()> {
    let mut moved = core.watch_checks_moved();
    loop {
        moved.borrow_and_update();
        let wait = match check_due(&core).await {
            Ok(()) => match core.store.next_check_watch_at().await {
                Ok(Some(at)) => Duration::from_millis((at - now_ms()).max(0) as u64).min(IDLE),
                Ok(None) => IDLE,
                Err(e) => {
                    tracing::error!("reading when checks are due failed: {e:#}");
                    IDLE
                }
            },
            Err(e) => {
                tracing::error!("reading pushed commits' checks failed: {e:#}");
                IDLE
            }
        };
        tokio::select! {
            _ = moved.changed() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// Reads the checks of every due watch and acts on them.
async fn check_due(core: &Core) -> Result<()> {
    let due = core.store.due_check_watches(now_ms(), BATCH).await?;
    if due.is_empty() {
        return Ok(());
    }
    // Watches outlive a config without the GitHub App: read as failed reads, they end in time.
    let policy = core.policy(Platform::GitHub);
    for watch in due {
        let age = Duration::from_millis((now_ms() - watch.created_at).max(0) as u64);
        let read = match &policy {
            Ok(policy) => policy.commit_checks(&watch.repo, &watch.sha).await,
            Err(e) => Err(anyhow!("{e:#}")),
        };
        let next = match read {
            Ok(checks) => decide(&checks, age, watch.attempts, core.workspaces.checks_poll),
            Err(e) => {
                tracing::warn!(session = %watch.session_id, sha = %watch.sha, "reading checks: {e:#}");
                match age >= GIVE_UP_AFTER {
                    true => Next::Stop,
                    false => Next::Wait(backoff(watch.attempts, core.workspaces.checks_poll)),
                }
            }
        };
        act(core, &watch, next).await?;
    }
    Ok(())
}

/// What the checks as read say to do, `age` after the push and `attempts` reads before.
fn decide(checks: &ChecksSummary, age: Duration, attempts: i64, first: Duration) -> Next {
    if checks.total > 0 && checks.all_completed() {
        return Next::Tell(match checks.failing.is_empty() {
            true => Report::Passed,
            false => Report::Failed(checks.failing.clone()),
        });
    }
    if checks.total == 0 && age >= NO_CHECKS_AFTER {
        return Next::Stop;
    }
    if checks.total > 0 && age >= GIVE_UP_AFTER {
        return Next::Tell(Report::GaveUp {
            pending: checks.pending.clone(),
        });
    }
    Next::Wait(backoff(attempts, first))
}

/// The wait after the `attempts`+1-th read: `first`, doubled per read before, at most
/// [`MAX_INTERVAL`].
fn backoff(attempts: i64, first: Duration) -> Duration {
    let doublings = u32::try_from(attempts.clamp(0, 16)).unwrap_or(16);
    first.saturating_mul(1 << doublings).min(MAX_INTERVAL)
}

async fn act(core: &Core, watch: &CheckWatch, next: Next) -> Result<()> {
    let now = now_ms();
    let report = match next {
        Next::Wait(after) => {
            let at = now + millis(after);
            return core
                .store
                .postpone_check_watch(watch, at, watch.attempts + 1)
                .await;
        }
        Next::Stop => None,
        Next::Tell(report) => Some(report),
    };
    let session = core.store.session(&watch.session_id).await?;
    let mut tx = core.store.write_tx().await?;
    if let (Some(report), Some(session)) = (report, session) {
        let target = replies::checks_target(session.delivery.pr_number, &watch.sha);
        let text = match report {
            Report::Passed => replies::checks_passed(&target),
            Report::Failed(failing) => {
                let spelling = core.spelling(session.thread.platform);
                replies::checks_failed(&spelling, &target, &failing)
            }
            Report::GaveUp { pending } => replies::checks_gave_up(&target, GIVE_UP_AFTER, &pending),
        };
        let told = Outbound {
            key: OutboxKey::ChecksReport {
                session: watch.session_id.clone(),
                sha: watch.sha.clone(),
            },
            thread: session.thread.clone(),
            op: OutboundOp::Post(Post::text(text)),
        };
        outbox::enqueue(&mut tx, &told).await?;
    }
    check_watches::finish(&mut tx, watch, now).await?;
    tx.commit().await?;
    core.outbox_changed();
    Ok(())
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: Duration = Duration::from_secs(15);

    fn failing(name: &str) -> FailingCheck {
        FailingCheck {
            name: name.into(),
            conclusion: "failure".into(),
            ..FailingCheck::default()
        }
    }

    #[test]
    fn the_wait_doubles_from_the_first_up_to_five_minutes() {
        let waits: Vec<u64> = (0..7).map(|n| backoff(n, FIRST).as_secs()).collect();
        assert_eq!(waits, [15, 30, 60, 120, 240, 300, 300]);
        assert_eq!(backoff(i64::MAX, FIRST), MAX_INTERVAL);
    }

    #[test]
    fn ended_checks_are_told_running_ones_waited_for_and_none_at_all_is_silence() {
        let minute = Duration::from_secs(60);
        let passed = ChecksSummary {
            total: 2,
            ..ChecksSummary::default()
        };
        assert_eq!(
            decide(&passed, minute, 0, FIRST),
            Next::Tell(Report::Passed)
        );
        let failed = ChecksSummary {
            total: 2,
            failing: vec![failing("test")],
            ..ChecksSummary::default()
        };
        assert_eq!(
            decide(&failed, minute, 0, FIRST),
            Next::Tell(Report::Failed(vec![failing("test")]))
        );
        let running = ChecksSummary {
            total: 2,
            pending: vec!["e2e".into()],
            failing: vec![failing("test")],
        };
        assert_eq!(decide(&running, minute, 2, FIRST), Next::Wait(minute));
        assert_eq!(
            decide(&running, GIVE_UP_AFTER, 9, FIRST),
            Next::Tell(Report::GaveUp {
                pending: vec!["e2e".into()]
            })
        );
        let none = ChecksSummary::default();
        assert_eq!(decide(&none, minute, 0, FIRST), Next::Wait(FIRST));
        assert_eq!(decide(&none, NO_CHECKS_AFTER, 5, FIRST), Next::Stop);
    }
}
