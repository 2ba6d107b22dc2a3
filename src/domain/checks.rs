//! How a commit's CI checks stand: what the thread of a pushed session is told when they end,
//! and what `/fix_ci` gives the agent.
//!
//! The platform that hosts repositories (GitHub's check runs) fills these in; the core decides
//! from them alone whether to wait longer, say the checks passed or name the ones that failed.
//! Kept here, below both, so the GitHub client and the core speak of one type.

/// The check runs of one commit, summed up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChecksSummary {
    /// How many check runs the commit has (none yet: CI has not started, or there is none).
    pub total: usize,
    /// Names of the runs not completed yet (queued, in progress, waiting).
    pub pending: Vec<String>,
    /// The completed runs that did not pass, in the platform's order.
    pub failing: Vec<FailingCheck>,
}

impl ChecksSummary {
    /// Every run has ended (vacuously so when there is none: see [`Self::total`]).
    pub fn all_completed(&self) -> bool {
        self.pending.is_empty()
    }
}

/// A completed check run that did not pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailingCheck {
    pub name: String,
    /// How it ended: `failure`, `timed_out`, `cancelled`, …
    pub conclusion: String,
    /// Where to read about it: the CI's own page, else the run on the platform.
    pub url: Option<String>,
    /// What the CI wrote about it. Written by whoever controls the CI: untrusted text.
    pub output: CheckOutput,
}

/// A check run's report (GitHub's `output`): each part optional, as CI leaves them out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckOutput {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub text: Option<String>,
}
