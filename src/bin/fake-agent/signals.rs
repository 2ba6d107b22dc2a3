//! Signals as a fake agent sees them, and the waits they interrupt.
//!
//! A real agent CLI handles SIGINT, SIGTERM and SIGHUP itself (each its own way, which each fake
//! reproduces): once [`Signals::install`] ran they no longer kill the process but arrive here,
//! during a wait ([`Signals::sleep`], [`Signals::wait_for`]) or between two lines
//! ([`Signals::pending`]), so a signal that lands while the fake is busy printing is never lost.

use std::path::Path;
use std::pin::Pin;
use std::process::Stdio;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::script::{WAIT_FOR_LIMIT, WAIT_FOR_POLL};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sig {
    Int,
    Term,
    Hup,
}

/// Why a wait for a file ended without it.
#[derive(Debug)]
pub enum Unwaited {
    Signal(Sig),
    /// The file never came (after [`WAIT_FOR_LIMIT`]): the run must fail loudly.
    GaveUp,
}

pub struct Signals {
    int: Signal,
    term: Signal,
    hup: Signal,
}

impl Signals {
    /// Must run inside the runtime, before the first line is printed.
    pub fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    pub async fn recv(&mut self) -> Sig {
        tokio::select! {
            _ = self.term.recv() => Sig::Term,
            _ = self.hup.recv() => Sig::Hup,
            _ = self.int.recv() => Sig::Int,
        }
    }

    /// A signal that arrived since the last look, without waiting.
    pub fn pending(&mut self) -> Option<Sig> {
        let mut cx = Context::from_waker(Waker::noop());
        let mut ready =
            |s: &mut Signal| matches!(Pin::new(s).poll_recv(&mut cx), Poll::Ready(Some(())));
        if ready(&mut self.term) {
            Some(Sig::Term)
        } else if ready(&mut self.hup) {
            Some(Sig::Hup)
        } else if ready(&mut self.int) {
            Some(Sig::Int)
        } else {
            None
        }
    }

    /// Waits `duration` as if on the model's API; a signal cuts it short.
    pub async fn sleep(&mut self, duration: Duration) -> Option<Sig> {
        tokio::select! {
            _ = tokio::time::sleep(duration) => None,
            sig = self.recv() => Some(sig),
        }
    }

    /// Waits like [`Signals::sleep`] until `path` exists (what a test creates once it has
    /// looked at the running agent).
    pub async fn wait_for(&mut self, path: &Path) -> Result<(), Unwaited> {
        let started = Instant::now();
        while !path.exists() {
            if started.elapsed() > WAIT_FOR_LIMIT {
                eprintln!("fake agent: {} never appeared", path.display());
                return Err(Unwaited::GaveUp);
            }
            if let Some(sig) = self.sleep(WAIT_FOR_POLL).await {
                return Err(Unwaited::Signal(sig));
            }
        }
        Ok(())
    }

    /// A shell tool running `sleep ARG` for `duration`: a real child, so the process tree looks
    /// like a running tool (a test that kills the agent's process group, or checks that nothing
    /// outlives it, sees a real `sleep`). A signal kills the child and is returned.
    pub async fn sleep_in_tool(
        &mut self,
        arg: &str,
        duration: Duration,
        cwd: &Path,
    ) -> Option<Sig> {
        let child = tokio::process::Command::new("sleep")
            .arg(arg)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn();
        let sig = self.sleep(duration).await;
        if let Ok(mut child) = child {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
        sig
    }
}
