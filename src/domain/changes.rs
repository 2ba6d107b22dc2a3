//! What a turn changed, as every floor names it: the baseline a turn's changes are measured
//! against (stored with the turn) and the figures kept once it ends. Reading them on a host is
//! `runner::changes`; this is only their shape.

use serde::{Deserialize, Serialize};

/// The workspace as it was at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The checked-out commit; `None` in a repository without commits.
    pub head: Option<String>,
    /// A tree object of the whole working tree.
    pub tree: String,
}

/// What a turn's changes are measured against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Baseline {
    Snapshot(Snapshot),
    /// The workspace is not in a git repository: there is nothing to compare.
    NotARepository,
    /// Reading it failed (no git on the host, say): the turn shows no changes.
    Unknown,
}

/// A turn's changes in figures, kept with the turn (for `/status` and the audit trail).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChangeStats {
    pub files: usize,
    /// Lines added and removed, over the files with line counts (not binaries, submodules).
    pub added: u64,
    pub removed: u64,
    pub commits: usize,
    /// The changed paths (the first hundred).
    #[serde(default)]
    pub paths: Vec<String>,
}
