//! What a turn changed in its workspace: the files (with +/- counts), the commits the agent made,
//! and the whole patch — read with git on the host, before and after the turn.
//!
//! A turn's "before" is a [`Snapshot`]: the commit checked out and a tree object of the whole
//! working tree as it was — tracked changes, staged or not, and untracked files (`.gitignore`
//! respected) — written with a throwaway index, so neither the user's index nor any ref is
//! touched. The "after" is the same, taken when the turn ends, and the changes are the diff of
//! the two trees (renames found), plus the commits between the two heads. Comparing trees rather
//! than `git diff HEAD` means work the agent committed, work it left uncommitted and files it
//! created all show, and a dirty workspace from earlier turns does not.
//!
//! Binary files are named, never dumped; submodules are named with their new commit. A
//! workspace that is not a git repository has no snapshot, and the turn says so instead.
//!
//! Every command is built from constants and quoted values; object ids are checked to be hex
//! before they are put in a command.

use serde::{Deserialize, Serialize};

use super::shell::quote_path;
use super::transport::{Transport, TransportError};

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

/// How long reading a workspace's git state may take: a workspace with huge untracked files
/// (hashed by `git add`) must not hold up the turn.
pub const TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// How often a baseline cut off by a lost connection is tried again, and the first pause
/// (doubled each time): the SSH pool reconnects within seconds, and a host that stays away
/// fails the launch that follows anyway.
const BASELINE_RETRIES: u32 = 4;
const BASELINE_RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(500);

impl Baseline {
    /// Takes the baseline of `dir`; a failure (or taking longer than [`TIME_LIMIT`]) is logged
    /// and becomes [`Baseline::Unknown`], as the turn runs either way. A connection lost on the
    /// way is retried first: the baseline is taken once per turn, before the agent starts, so
    /// a cut link must not cost the turn its changes.
    pub async fn take(host: &dyn Transport, dir: &str) -> Baseline {
        let problem = match tokio::time::timeout(TIME_LIMIT, snapshot_retrying(host, dir)).await {
            Ok(Ok(Some(snapshot))) => return Baseline::Snapshot(snapshot),
            Ok(Ok(None)) => return Baseline::NotARepository,
            Ok(Err(e)) => e.to_string(),
            Err(_) => "it took too long".to_owned(),
        };
        tracing::warn!(
            host = host.name(),
            dir,
            "could not read the workspace's git state: {problem}"
        );
        Baseline::Unknown
    }
}

/// [`snapshot`], tried again after a lost or not yet restored connection.
async fn snapshot_retrying(
    host: &dyn Transport,
    dir: &str,
) -> Result<Option<Snapshot>, ChangesError> {
    let mut pause = BASELINE_RETRY_PAUSE;
    for _ in 0..BASELINE_RETRIES {
        match snapshot(host, dir).await {
            Err(ChangesError::Transport(
                e @ (TransportError::Disconnected { .. } | TransportError::Unreachable { .. }),
            )) => {
                tracing::info!(
                    host = host.name(),
                    "reading the workspace's git state: {e}; retrying"
                );
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            done => return done,
        }
    }
    snapshot(host, dir).await
}

/// One changed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub path: String,
    /// The old path of a rename.
    pub renamed_from: Option<String>,
    pub kind: ChangeKind,
    /// Lines added and removed; `None` for binary files and submodules.
    pub lines: Option<(u64, u64)>,
    /// A submodule (a gitlink): its new commit, if it still exists.
    pub submodule: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
    Renamed,
    /// A type change (a file became a symlink, say).
    TypeChanged,
}

/// A commit the agent made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub id: String,
    pub subject: String,
}

/// Everything a turn changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Changes {
    pub files: Vec<FileChange>,
    /// Oldest first.
    pub commits: Vec<Commit>,
    /// `git diff` of the two trees, renames found, binary files named.
    pub patch: String,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.commits.is_empty()
    }

    pub fn stats(&self) -> ChangeStats {
        let (added, removed) = self
            .files
            .iter()
            .filter_map(|f| f.lines)
            .fold((0, 0), |(a, r), (fa, fr)| (a + fa, r + fr));
        ChangeStats {
            files: self.files.len(),
            added,
            removed,
            commits: self.commits.len(),
            paths: self
                .files
                .iter()
                .take(PATHS_KEPT)
                .map(|f| f.path.clone())
                .collect(),
        }
    }
}

/// How many changed paths a turn's [`ChangeStats`] names.
const PATHS_KEPT: usize = 100;

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

#[derive(Debug, thiserror::Error)]
pub enum ChangesError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("reading the workspace's git state failed: {0}")]
    Git(String),
}

/// The shell prelude: into the workspace's top level, or exit 0 saying it is not a repository.
/// A script fragment that enters the top of the repository holding `dir`, where the paths of
/// [`Changes`] are relative to (it exits early outside a repository).
pub fn prelude(dir: &str) -> String {
    format!(
        "cd {dir} || exit 3\n\
         top=$(git rev-parse --show-toplevel 2>/dev/null) || {{ echo not-a-repository; exit 0; }}\n\
         cd \"$top\" || exit 3\n",
        dir = quote_path(dir),
    )
}

/// Takes a snapshot of the workspace in `dir`; `None` when it is not in a git repository.
pub async fn snapshot(host: &dyn Transport, dir: &str) -> Result<Option<Snapshot>, ChangesError> {
    // The throwaway index starts as a copy of the real one, so unchanged files are not hashed
    // again; `add -A` then takes in every change and every untracked file.
    let script = format!(
        "{prelude}set -e\n\
         idx=$(mktemp)\n\
         trap 'rm -f \"$idx\"' EXIT\n\
         real=$(git rev-parse --git-path index)\n\
         if [ -f \"$real\" ]; then cp \"$real\" \"$idx\"; else rm -f \"$idx\"; fi\n\
         GIT_INDEX_FILE=$idx git add -A\n\
         echo \"head $(git rev-parse -q --verify HEAD || echo none)\"\n\
         echo \"tree $(GIT_INDEX_FILE=$idx git write-tree)\"\n",
        prelude = prelude(dir),
    );
    let out = host.exec(&script, b"").await?;
    if !out.success() {
        return Err(ChangesError::Git(out.stderr_text()));
    }
    parse_snapshot(&out.stdout_text())
}

fn parse_snapshot(text: &str) -> Result<Option<Snapshot>, ChangesError> {
    if text.trim() == "not-a-repository" {
        return Ok(None);
    }
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .map(str::to_owned)
            .ok_or_else(|| ChangesError::Git(format!("no {name} in {text:?}")))
    };
    let head = field("head")?;
    let tree = field("tree")?;
    if !is_object_id(&tree) || !(head == "none" || is_object_id(&head)) {
        return Err(ChangesError::Git(format!("unexpected snapshot {text:?}")));
    }
    Ok(Some(Snapshot {
        head: (head != "none").then_some(head),
        tree,
    }))
}

fn is_object_id(s: &str) -> bool {
    (40..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// What changed in `dir` since `before`, as of now.
pub async fn since(
    host: &dyn Transport,
    dir: &str,
    before: &Snapshot,
) -> Result<Changes, ChangesError> {
    let Some(after) = snapshot(host, dir).await? else {
        return Err(ChangesError::Git(
            "the workspace is no longer a repository".into(),
        ));
    };
    let trees = format!("{} {}", before.tree, after.tree);
    let diff = "git -c core.quotePath=false -c diff.noprefix=false diff --no-color --no-ext-diff \
                --find-renames";
    let raw = run(host, dir, &format!("{diff} --raw --no-abbrev -z {trees}")).await?;
    let numstat = run(host, dir, &format!("{diff} --numstat -z {trees}")).await?;
    let patch = run(host, dir, &format!("{diff} {trees}")).await?;
    let commits = match (&before.head, &after.head) {
        (_, None) => String::new(),
        (Some(old), Some(new)) if old == new => String::new(),
        (old, Some(new)) => {
            let range = match old {
                Some(old) => format!("{old}..{new}"),
                None => new.clone(),
            };
            run(
                host,
                dir,
                &format!("git log --reverse -z --format=%H%x09%s {range}"),
            )
            .await?
        }
    };
    Ok(Changes {
        files: parse_files(&raw, &numstat)?,
        commits: parse_commits(&commits),
        patch,
    })
}

/// `patch`, cut to at most `max` bytes (on a line boundary) with a last line saying so.
pub fn capped(mut patch: String, max: usize) -> String {
    if patch.len() <= max {
        return patch;
    }
    let total = patch.len();
    let mut cut = max;
    while !patch.is_char_boundary(cut) {
        cut -= 1;
    }
    let cut = patch[..cut].rfind('\n').map_or(0, |n| n + 1);
    patch.truncate(cut);
    patch.push_str(&format!("… cut here: the whole patch is {total} bytes\n"));
    patch
}

/// Image files chats can show as images, and SVG, which is rendered to PNG first.
const IMAGE_EXTENSIONS: [&str; 6] = ["png", "jpg", "jpeg", "gif", "webp", "svg"];

/// Whether an image path is an SVG file (to be rendered before it is shown).
pub fn is_svg(path: &str) -> bool {
    path.rsplit_once('.')
        .is_some_and(|(_, ext)| ext.eq_ignore_ascii_case("svg"))
}

/// The images among the changes that still exist: added, modified or renamed, in order.
pub fn images(changes: &Changes) -> impl Iterator<Item = &str> {
    changes
        .files
        .iter()
        .filter(|f| f.kind != ChangeKind::Deleted && f.submodule.is_none())
        .map(|f| f.path.as_str())
        .filter(|path| {
            path.rsplit_once('.').is_some_and(|(_, ext)| {
                IMAGE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str())
            })
        })
}

/// The bytes of `path` (relative to the repository's top) in the workspace `dir`; `None` when
/// the file is larger than `max` bytes.
pub async fn read_file(
    host: &dyn Transport,
    dir: &str,
    path: &str,
    max: usize,
) -> Result<Option<Vec<u8>>, ChangesError> {
    let script = format!(
        "{prelude}f={path}\n\
         [ -f \"$f\" ] || {{ echo \"no such file\" >&2; exit 4; }}\n\
         [ \"$(wc -c < \"$f\")\" -le {max} ] || exit 5\n\
         cat \"$f\"\n",
        prelude = prelude(dir),
        path = super::shell::quote(path),
    );
    let out = host.exec(&script, b"").await?;
    match out.status {
        Some(0) => Ok(Some(out.stdout)),
        Some(5) => Ok(None),
        _ => Err(ChangesError::Git(format!(
            "reading {path}: {}",
            out.stderr_text()
        ))),
    }
}

async fn run(host: &dyn Transport, dir: &str, command: &str) -> Result<String, ChangesError> {
    let script = format!("{}{command}\n", prelude(dir));
    let out = host.exec(&script, b"").await?;
    if !out.success() {
        return Err(ChangesError::Git(out.stderr_text()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Reads `git diff --raw -z` (modes and status) and `--numstat -z` (line counts), which list
/// the same paths in the same order.
fn parse_files(raw: &str, numstat: &str) -> Result<Vec<FileChange>, ChangesError> {
    let bad = |what: &str| ChangesError::Git(format!("unexpected git diff output: {what}"));
    let mut raw = raw.split('\0').filter(|s| !s.is_empty());
    let mut counts = numstat.split('\0').filter(|s| !s.is_empty());
    let mut files = Vec::new();
    while let Some(meta) = raw.next() {
        // ":100644 100644 abc… def… M"
        let fields: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
        let [old_mode, new_mode, _, new_id, status] = fields[..] else {
            return Err(bad(meta));
        };
        let first = raw.next().ok_or_else(|| bad("a path"))?.to_owned();
        let (kind, renamed_from, path) = match status.chars().next() {
            Some('A') => (ChangeKind::Added, None, first),
            Some('D') => (ChangeKind::Deleted, None, first),
            Some('T') => (ChangeKind::TypeChanged, None, first),
            Some('R') => {
                let to = raw.next().ok_or_else(|| bad("a rename's new path"))?;
                (ChangeKind::Renamed, Some(first), to.to_owned())
            }
            _ => (ChangeKind::Modified, None, first),
        };
        // "added\tremoved\tpath", or for a rename "added\tremoved\t" then both paths.
        let stat = counts.next().ok_or_else(|| bad("a numstat line"))?;
        let mut parts = stat.splitn(3, '\t');
        let (added, removed) = (parts.next(), parts.next());
        if kind == ChangeKind::Renamed {
            counts.next();
            counts.next();
        }
        let submodule = [old_mode, new_mode].contains(&"160000");
        let lines = match (added, removed) {
            (Some(a), Some(r)) if !submodule => a.parse().ok().zip(r.parse().ok()),
            _ => None,
        };
        files.push(FileChange {
            path,
            renamed_from,
            kind,
            lines,
            submodule: (submodule && new_mode == "160000").then(|| new_id.to_owned()),
        });
    }
    Ok(files)
}

fn parse_commits(log: &str) -> Vec<Commit> {
    log.split('\0')
        .filter_map(|entry| {
            let (id, subject) = entry.trim_start_matches('\n').split_once('\t')?;
            Some(Commit {
                id: id.to_owned(),
                subject: subject.to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::local::LocalTransport;
    use crate::runner::transport::ExecOutput;
    use std::path::Path;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args([
                "-c",
                "init.defaultBranch=main",
                "-c",
                "protocol.file.allow=always",
            ])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn write(dir: &Path, path: &str, content: &[u8]) {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    /// A repository with a few committed files.
    fn repo(root: &Path) -> std::path::PathBuf {
        let dir = root.join("repo");
        std::fs::create_dir(&dir).unwrap();
        git(&dir, &["init", "-q"]);
        write(&dir, "src/lib.rs", b"fn a() {}\nfn b() {}\n");
        write(&dir, "README.md", b"# R\n\nsome words\nthat stay\n");
        write(&dir, "old_name.txt", b"one\ntwo\nthree\nfour\nfive\n");
        write(&dir, "gone.txt", b"bye\n");
        write(&dir, ".gitignore", b"target/\n");
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-qm", "start"]);
        dir
    }

    fn host() -> LocalTransport {
        LocalTransport::new("local")
    }

    /// A host whose first `cuts` commands lose their connection, as a cut SSH link does.
    struct CutLink {
        inner: LocalTransport,
        cuts: std::sync::atomic::AtomicU32,
    }

    impl Transport for CutLink {
        fn name(&self) -> &str {
            "cut"
        }

        fn exec<'a>(
            &'a self,
            command: &'a str,
            stdin: &'a [u8],
        ) -> crate::runner::transport::BoxFuture<'a, Result<ExecOutput, TransportError>> {
            use std::sync::atomic::Ordering;
            if self
                .cuts
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Box::pin(async {
                    Err(TransportError::Disconnected {
                        host: "cut".into(),
                        reason: "connection reset".into(),
                    })
                });
            }
            self.inner.exec(command, stdin)
        }

        fn converse<'a>(
            &'a self,
            command: &'a str,
        ) -> crate::runner::transport::BoxFuture<
            'a,
            Result<crate::runner::transport::Conversation, TransportError>,
        > {
            self.inner.converse(command)
        }
    }

    /// A connection cut while the baseline is read is retried, so the turn still shows its
    /// changes; a link that stays down ends as `Unknown`, not a hang.
    #[tokio::test]
    async fn a_baseline_cut_off_by_a_lost_connection_is_taken_again() {
        let root = tempfile::tempdir().unwrap();
        let dir = repo(root.path());
        let d = dir.to_str().unwrap();
        let flaky = CutLink {
            inner: host(),
            cuts: 2.into(),
        };
        let expected = snapshot(&host(), d).await.unwrap().expect("a repository");
        assert_eq!(
            Baseline::take(&flaky, d).await,
            Baseline::Snapshot(expected)
        );
        let down = CutLink {
            inner: host(),
            cuts: u32::MAX.into(),
        };
        assert_eq!(Baseline::take(&down, d).await, Baseline::Unknown);
    }

    #[tokio::test]
    async fn edits_additions_renames_deletions_commits_and_binaries() {
        let root = tempfile::tempdir().unwrap();
        let dir = repo(root.path());
        // Uncommitted work from before the turn is not the turn's.
        write(
            &dir,
            "README.md",
            b"# R\n\nsome words\nthat stay\nearlier edit\n",
        );
        let d = dir.to_str().unwrap();
        let before = snapshot(&host(), d).await.unwrap().expect("a repository");

        write(
            &dir,
            "src/lib.rs",
            b"fn a() {}\nfn b() { todo!() }\nfn c() {}\n",
        );
        write(&dir, "src/new.rs", b"pub struct New;\n");
        std::fs::rename(dir.join("old_name.txt"), dir.join("new_name.txt")).unwrap();
        std::fs::remove_file(dir.join("gone.txt")).unwrap();
        write(&dir, "logo.png", &[0x89, b'P', b'N', b'G', 0, 1, 2, 0, 255]);
        write(&dir, "target/ignored.o", b"build output");
        git(&dir, &["add", "src/lib.rs"]);
        git(&dir, &["commit", "-qm", "Make b panic"]);
        let changes = since(&host(), d, &before).await.unwrap();

        let by_path = |p: &str| {
            changes
                .files
                .iter()
                .find(|f| f.path == p)
                .unwrap_or_else(|| panic!("{p} in {:#?}", changes.files))
        };
        assert_eq!(changes.files.len(), 5, "{:#?}", changes.files);
        assert_eq!(by_path("src/lib.rs").lines, Some((2, 1)));
        assert_eq!(by_path("src/lib.rs").kind, ChangeKind::Modified);
        assert_eq!(by_path("src/new.rs").kind, ChangeKind::Added);
        assert_eq!(by_path("src/new.rs").lines, Some((1, 0)));
        let renamed = by_path("new_name.txt");
        assert_eq!(renamed.kind, ChangeKind::Renamed);
        assert_eq!(renamed.renamed_from.as_deref(), Some("old_name.txt"));
        assert_eq!(by_path("gone.txt").kind, ChangeKind::Deleted);
        assert_eq!(by_path("logo.png").lines, None, "binary: no line counts");
        assert!(changes.files.iter().all(|f| !f.path.starts_with("target/")));
        assert_eq!(changes.commits.len(), 1);
        assert_eq!(changes.commits[0].subject, "Make b panic");
        assert!(
            changes
                .patch
                .contains("Binary files /dev/null and b/logo.png differ")
        );
        assert!(!changes.patch.contains("earlier edit"), "not this turn's");

        // The same diff, taken independently: the whole tree staged, against the state before.
        git(&dir, &["add", "-A"]);
        let expected = git(
            &dir,
            &[
                "diff",
                "--no-color",
                "--find-renames",
                "--cached",
                &before.tree,
            ],
        );
        assert_eq!(changes.patch, expected);
        assert_eq!(git(&dir, &["status", "--porcelain"]).lines().count(), 5);
    }

    #[tokio::test]
    async fn nothing_changed_is_empty_and_repositories_without_commits_work() {
        let root = tempfile::tempdir().unwrap();
        let dir = repo(root.path());
        let d = dir.to_str().unwrap();
        let before = snapshot(&host(), d).await.unwrap().unwrap();
        let status_before = git(&dir, &["status", "--porcelain"]);
        let changes = since(&host(), d, &before).await.unwrap();
        assert!(changes.is_empty(), "{changes:#?}");
        assert_eq!(changes.patch, "");
        assert_eq!(git(&dir, &["status", "--porcelain"]), status_before);

        let fresh = root.path().join("fresh");
        std::fs::create_dir(&fresh).unwrap();
        git(&fresh, &["init", "-q"]);
        let f = fresh.to_str().unwrap();
        let before = snapshot(&host(), f).await.unwrap().unwrap();
        assert_eq!(before.head, None);
        write(&fresh, "a.txt", b"a\n");
        git(&fresh, &["add", "a.txt"]);
        git(&fresh, &["commit", "-qm", "first"]);
        let changes = since(&host(), f, &before).await.unwrap();
        assert_eq!(changes.files.len(), 1);
        assert_eq!(changes.commits.len(), 1);
        assert_eq!(changes.commits[0].subject, "first");
    }

    #[tokio::test]
    async fn submodules_are_named_and_other_directories_are_not_repositories() {
        let root = tempfile::tempdir().unwrap();
        let lib = repo(root.path());
        let app = root.path().join("app");
        std::fs::create_dir(&app).unwrap();
        git(&app, &["init", "-q"]);
        write(&app, "main.rs", b"fn main() {}\n");
        git(&app, &["add", "-A"]);
        git(&app, &["commit", "-qm", "app"]);
        let a = app.to_str().unwrap();
        let before = snapshot(&host(), a).await.unwrap().unwrap();
        git(
            &app,
            &[
                "submodule",
                "add",
                "-q",
                lib.to_str().unwrap(),
                "vendor/lib",
            ],
        );
        let changes = since(&host(), a, &before).await.unwrap();
        let sub = changes
            .files
            .iter()
            .find(|f| f.path == "vendor/lib")
            .unwrap_or_else(|| panic!("{:#?}", changes.files));
        assert_eq!(
            sub.submodule.as_deref(),
            Some(git(&lib, &["rev-parse", "HEAD"]).trim())
        );
        assert_eq!(sub.lines, None);
        assert!(changes.files.iter().any(|f| f.path == ".gitmodules"));

        let plain = root.path().join("plain");
        std::fs::create_dir(&plain).unwrap();
        assert_eq!(
            snapshot(&host(), plain.to_str().unwrap()).await.unwrap(),
            None
        );
        assert!(snapshot(&host(), "/no/such/dir").await.is_err());
    }

    #[tokio::test]
    async fn images_are_found_and_read_within_a_size() {
        let root = tempfile::tempdir().unwrap();
        let dir = repo(root.path());
        let d = dir.to_str().unwrap();
        let before = snapshot(&host(), d).await.unwrap().unwrap();
        write(&dir, "out/Chart 1.PNG", &[0x89, b'P', b'N', b'G', 1, 2, 3]);
        write(&dir, "photo.jpg", &[0xff; 64]);
        write(&dir, "notes.md", b"not an image");
        let changes = since(&host(), d, &before).await.unwrap();
        let found: Vec<&str> = images(&changes).collect();
        assert_eq!(found, ["out/Chart 1.PNG", "photo.jpg"]);
        let bytes = read_file(&host(), d, "out/Chart 1.PNG", 100).await.unwrap();
        assert_eq!(
            bytes.as_deref(),
            Some(&[0x89, b'P', b'N', b'G', 1, 2, 3][..])
        );
        assert_eq!(read_file(&host(), d, "photo.jpg", 63).await.unwrap(), None);
        assert!(read_file(&host(), d, "gone.png", 100).await.is_err());
    }

    #[test]
    fn long_patches_are_cut_on_a_line() {
        assert_eq!(capped("a\nb\n".into(), 10), "a\nb\n");
        let cut = capped("line one\nline two\nline three\n".into(), 20);
        assert_eq!(
            cut,
            "line one\nline two\n… cut here: the whole patch is 29 bytes\n"
        );
        assert!(capped("ééééé\n".into(), 3).starts_with("… cut here"));
    }

    #[test]
    fn odd_output_is_an_error_not_a_guess() {
        assert!(parse_snapshot("head none\ntree 123").is_err());
        assert!(
            parse_snapshot("head $(x)\ntree 4b825dc642cb6eb9a060e54bf8d69288fbee4904").is_err()
        );
        assert!(parse_files(":100644 100644 a b\0x\0", "1\t1\tx\0").is_err());
    }
}
