//! The per-host connection pool: lazily opened connections, a channel cap per connection,
//! one connect in flight at a time, and a reconnect backoff.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use russh::client::Handle;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::runner::ssh::SshSettings;
use crate::runner::ssh::connection::{self, Client, Target};
use crate::runner::transport::TransportError;

/// First wait after a failed connect; doubled after each further failure.
const BACKOFF_START: Duration = Duration::from_millis(500);
/// The longest wait between connect attempts.
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// How long an extra connection may sit without channels before it is closed (the oldest
/// connection is kept open, so a quiet host still answers on a warm connection).
const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(300);

/// One SSH connection and the channel slots it has left.
pub(super) struct Connection {
    id: u64,
    pub(super) handle: Handle<Client>,
    slots: Arc<Semaphore>,
    max_slots: usize,
    /// When the last channel of this connection ended; `None` while one is open.
    idle_since: Mutex<Option<Instant>>,
}

impl Connection {
    fn try_lease(self: &Arc<Self>) -> Option<Lease> {
        // `idle_since` is locked around both the slot change and its own update (here and in
        // `Lease::drop`), so a connection in use is never marked idle.
        let mut idle_since = self.idle_since.lock().unwrap();
        let permit = Arc::clone(&self.slots).try_acquire_owned().ok()?;
        *idle_since = None;
        Some(Lease {
            conn: Arc::clone(self),
            permit: Some(permit),
        })
    }

    fn idle_for(&self, now: Instant) -> Duration {
        match *self.idle_since.lock().unwrap() {
            Some(since) => now.saturating_duration_since(since),
            None => Duration::ZERO,
        }
    }
}

/// The right to open one channel on a connection. Keep it for the channel's whole life:
/// dropping it frees the slot.
pub(super) struct Lease {
    pub(super) conn: Arc<Connection>,
    permit: Option<OwnedSemaphorePermit>,
}

impl Lease {
    pub(super) fn connection_id(&self) -> u64 {
        self.conn.id
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut idle_since = self.conn.idle_since.lock().unwrap();
        drop(self.permit.take());
        if self.conn.slots.available_permits() == self.conn.max_slots {
            *idle_since = Some(Instant::now());
        }
    }
}

/// Reconnect backoff: after a failed connect, attempts within the window fail fast.
#[derive(Debug, Default)]
struct Backoff {
    failures: u32,
    retry_at: Option<Instant>,
    last_error: Option<TransportError>,
}

impl Backoff {
    fn delay(failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(16);
        (BACKOFF_START * 2u32.pow(doublings)).min(BACKOFF_MAX)
    }

    /// Fails fast while the window is open. Identity and credential refusals are repeated as
    /// they are (they tell the user what to fix); anything else becomes `Unreachable` with the
    /// time left and the last error.
    fn check(&self, now: Instant, host: &str) -> Result<(), TransportError> {
        let (Some(retry_at), Some(last)) = (self.retry_at, &self.last_error) else {
            return Ok(());
        };
        if now >= retry_at {
            return Ok(());
        }
        match last {
            TransportError::HostKeyMismatch { .. } | TransportError::AuthFailed { .. } => {
                Err(last.clone())
            }
            _ => {
                let left = retry_at - now;
                let last = match last {
                    TransportError::Unreachable { reason, .. } => reason.clone(),
                    other => other.to_string(),
                };
                Err(TransportError::Unreachable {
                    host: host.to_owned(),
                    reason: format!(
                        "not connecting (retrying in {:.1}s; last error: {last})",
                        left.as_secs_f64()
                    ),
                })
            }
        }
    }

    fn failed(&mut self, now: Instant, error: TransportError) {
        self.failures = self.failures.saturating_add(1);
        self.retry_at = Some(now + Self::delay(self.failures));
        self.last_error = Some(error);
    }

    fn succeeded(&mut self) {
        *self = Backoff::default();
    }
}

#[derive(Default)]
struct State {
    conns: Vec<Arc<Connection>>,
    backoff: Backoff,
}

/// The connections to one host.
#[derive(Default)]
pub(super) struct Pool {
    state: Mutex<State>,
    /// Held while a connect is in flight: concurrent callers wait for it and then use the new
    /// connection instead of each opening their own.
    connecting: tokio::sync::Mutex<()>,
    next_id: AtomicU64,
}

impl Pool {
    /// A channel slot on a live connection, connecting when every connection is full.
    pub(super) async fn lease(
        &self,
        settings: &Arc<SshSettings>,
        target: &Result<Target, String>,
    ) -> Result<Lease, TransportError> {
        if let Some(lease) = self.try_lease() {
            return Ok(lease);
        }
        let _connecting = self.connecting.lock().await;
        // Whoever held the lock before us may have just added a connection.
        if let Some(lease) = self.try_lease() {
            return Ok(lease);
        }
        self.state
            .lock()
            .unwrap()
            .backoff
            .check(Instant::now(), &settings.name)?;

        let started = Instant::now();
        let result = match target {
            Ok(target) => connection::connect(settings, target).await,
            Err(reason) => Err(TransportError::Unreachable {
                host: settings.name.clone(),
                reason: reason.clone(),
            }),
        };
        let mut state = self.state.lock().unwrap();
        match result {
            Ok(handle) => {
                state.backoff.succeeded();
                let max_slots = settings.max_channels_per_connection.max(1);
                let conn = Arc::new(Connection {
                    id: self.next_id.fetch_add(1, Ordering::Relaxed),
                    handle,
                    slots: Arc::new(Semaphore::new(max_slots)),
                    max_slots,
                    idle_since: Mutex::new(None),
                });
                tracing::info!(
                    host = %settings.name,
                    connection = conn.id,
                    open = state.conns.len() + 1,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "ssh connection established"
                );
                let lease = conn.try_lease().expect("a new connection has free slots");
                state.conns.push(conn);
                Ok(lease)
            }
            Err(e) => {
                tracing::warn!(host = %settings.name, error = %e, "ssh connect failed");
                state.backoff.failed(Instant::now(), e.clone());
                Err(e)
            }
        }
    }

    /// Takes a free slot on an existing live connection, oldest first, after dropping dead and
    /// long-idle connections.
    fn try_lease(&self) -> Option<Lease> {
        let mut state = self.state.lock().unwrap();
        let now = Instant::now();
        let mut kept_one = false;
        state.conns.retain(|conn| {
            if conn.handle.is_closed() {
                tracing::info!(connection = conn.id, "dropping a closed ssh connection");
                return false;
            }
            if kept_one && conn.idle_for(now) > IDLE_CONNECTION_TIMEOUT {
                tracing::debug!(connection = conn.id, "closing an idle ssh connection");
                close_in_background(Arc::clone(conn));
                return false;
            }
            kept_one = true;
            true
        });
        state.conns.iter().find_map(Connection::try_lease)
    }

    /// Stops handing out `connection`: it failed to open a channel. Its open channels keep
    /// running; it closes when the last of them ends.
    pub(super) fn retire(&self, connection: u64) {
        self.state
            .lock()
            .unwrap()
            .conns
            .retain(|conn| conn.id != connection);
    }

    /// How many connections the pool holds now (dead ones included until the next use).
    pub(super) fn len(&self) -> usize {
        self.state.lock().unwrap().conns.len()
    }
}

fn close_in_background(conn: Arc<Connection>) {
    if let Ok(rt) = tokio::runtime::Handle::try_current() {
        rt.spawn(async move {
            let _ = conn
                .handle
                .disconnect(russh::Disconnect::ByApplication, "idle", "en")
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unreachable() -> TransportError {
        TransportError::Unreachable {
            host: "h".into(),
            reason: "connection refused".into(),
        }
    }

    #[test]
    fn backoff_doubles_from_half_a_second_up_to_thirty() {
        let delays: Vec<u64> = (1..=9)
            .map(|n| Backoff::delay(n).as_millis() as u64)
            .collect();
        assert_eq!(
            delays,
            [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
        );
        assert_eq!(Backoff::delay(u32::MAX), BACKOFF_MAX);
    }

    #[test]
    fn backoff_fails_fast_inside_the_window_and_resets_on_success() {
        let t0 = Instant::now();
        let mut b = Backoff::default();
        assert!(b.check(t0, "h").is_ok());
        b.failed(t0, unreachable());
        let err = b.check(t0 + Duration::from_millis(100), "h").unwrap_err();
        let TransportError::Unreachable { reason, .. } = err else {
            panic!("{err:?}")
        };
        assert!(reason.contains("retrying in 0.4s"), "{reason}");
        assert!(
            reason.contains("last error: connection refused"),
            "{reason}"
        );
        assert!(b.check(t0 + BACKOFF_START, "h").is_ok());
        b.failed(t0, unreachable());
        assert!(
            b.check(t0 + BACKOFF_START, "h").is_err(),
            "second window is 1s"
        );
        b.succeeded();
        assert!(b.check(t0, "h").is_ok());
    }

    #[test]
    fn backoff_repeats_identity_refusals_as_they_are() {
        let t0 = Instant::now();
        let mut b = Backoff::default();
        let mismatch = TransportError::HostKeyMismatch {
            host: "h".into(),
            presented: "SHA256:x".into(),
        };
        b.failed(t0, mismatch.clone());
        assert_eq!(b.check(t0, "h"), Err(mismatch));
    }
}
