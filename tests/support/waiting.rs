//! Waiting on a fake server without sleeping on a timer: register for its change signal
//! *before* looking at the state, then sleep until the next change or the deadline, so no change
//! between the look and the sleep can be missed.

use std::pin::pin;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// Re-runs `check` after every notification on `changed` until it finds something; `None` once
/// `timeout` has passed (after one last look).
pub async fn until<T>(
    changed: &Notify,
    timeout: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        let mut notified = pin!(changed.notified());
        notified.as_mut().enable();
        if let Some(found) = check() {
            return Some(found);
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return check();
        }
    }
}

/// Looks at state that gives no change signal — a file on a test host, a row of the bot's
/// database — every 20 ms until `check` finds what it waits for, and fails naming what it last
/// saw (`check`'s `Err`) once `timeout` has passed. Waiting for a condition, not for a time:
/// under load it only waits longer.
pub async fn poll<T>(timeout: Duration, mut check: impl AsyncFnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match check().await {
            Ok(found) => return found,
            Err(seen) => assert!(Instant::now() < deadline, "{seen}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
