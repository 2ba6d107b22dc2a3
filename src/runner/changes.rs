//! What a turn changed in its workspace: the files (with +/- counts), the commits the agent made,
//! and the whole patch — read with git on the host, before and after the turn.
//!
//! A turn's "before" is a [`Snapshot`]: the commit checked out and a tree object of the whole
//! working tree as it was — tracked changes, staged or not, and untracked files (`.gitignore`
//! respected) — written through an index of Switchboard's own, so neither the user's index nor
//! any ref is touched. The "after" is the same, taken when the turn ends, and the changes are the
//! diff of the two trees (renames found), plus the commits between the two heads. Comparing trees
//! rather than `git diff HEAD` means work the agent committed, work it left uncommitted and files
//! it created all show, and a dirty workspace from earlier turns does not.
//!
//! Snapshots sit on the launch path, so they must be cheap. Each workspace keeps its snapshot
//! index in the host's state dir ([`snapshot_index`]) from one snapshot to the next: `git add -A`
//! then rehashes only the files whose stat data changed (git's racy-timestamp check covers a file
//! rewritten within the index's own timestamp granularity). Two turns of one workspace may take
//! snapshots at once: one that finds the index locked by the other — in its `add`, or in its
//! `write-tree`, which locks the index too — works on a copy of it. The
//! "before" is taken by the launch command itself ([`snapshot_script`], in the same SSH exec as
//! the agent's start) and the "after" by the turn's one end-of-turn read ([`since_script`]).
//!
//! Binary files are named, never dumped; submodules are named with their new commit. A
//! workspace that is not a git repository has no snapshot, and the turn says so instead.
//!
//! Every command is built from constants and quoted values; object ids are checked to be hex
//! before they are put in a command.

use crate::domain::changes::{Baseline, ChangeStats, Snapshot};

use super::shell::quote_path;
use super::transport::{Transport, TransportError};

/// How long reading a workspace's changes may take: a workspace with huge untracked files
/// (hashed by `git add`) must not hold up the turn's answer.
pub const TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// A workspace whose snapshots are taken, and where its snapshot index lives on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tracked<'a> {
    /// The workspace (`~/` allowed); snapshots cover the repository holding it.
    pub dir: &'a str,
    /// Its snapshot index (see [`snapshot_index`]).
    pub index: &'a str,
}

/// The snapshot index of the workspace `dir` on a host whose state dir is `state_dir`: one file
/// per workspace, named by a digest of its path.
pub fn snapshot_index(state_dir: &str, dir: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, dir.as_bytes());
    let key: String = digest.as_ref()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{}/snapshots/{key}.index", state_dir.trim_end_matches('/'))
}

/// A script that takes a snapshot of the workspace and prints it (`head …` and `tree …` lines),
/// or `not-a-repository`. It changes directory and exits, so callers run it in a subshell;
/// it writes objects into the repository, so it runs with the user's umask.
pub fn snapshot_script(at: Tracked<'_>) -> String {
    format!(
        r#"cd {dir} || exit 3
{{ read -r top; read -r head || head=none; }} <<SB_EOF
$(git rev-parse --show-toplevel --verify -q HEAD 2> /dev/null)
SB_EOF
[ -n "$top" ] || {{ echo not-a-repository; exit 0; }}
cd "$top" || exit 3
set -e
i={index}
if [ ! -f "$i" ]; then
  [ -d "${{i%/*}}" ] || mkdir -p "${{i%/*}}"
  real=$(git rev-parse --git-path index)
  if [ -f "$real" ]; then cp "$real" "$i.$$" && mv -f "$i.$$" "$i"; fi
fi
x=$i
if ! tree=$(GIT_INDEX_FILE=$x git add -A 2> /dev/null && GIT_INDEX_FILE=$x git write-tree 2> /dev/null); then
  find "$i.lock" -mmin +10 -exec rm -f {{}} + 2> /dev/null || true
  x=$i.$$
  trap 'rm -f "$x"' EXIT
  if [ -f "$i" ]; then cp "$i" "$x"; fi
  tree=$(GIT_INDEX_FILE=$x git add -A && GIT_INDEX_FILE=$x git write-tree)
fi
echo "head $head"
echo "tree $tree"
"#,
        dir = quote_path(at.dir),
        index = quote_path(at.index),
    )
}

/// Reads what a [`snapshot_script`] run printed (with its stderr) and whether it succeeded.
pub fn parse_baseline(output: &str, succeeded: bool) -> Result<Baseline, ChangesError> {
    if !succeeded {
        return Err(ChangesError::Git(output.trim().to_owned()));
    }
    Ok(match parse_snapshot(output)? {
        Some(snapshot) => Baseline::Snapshot(snapshot),
        None => Baseline::NotARepository,
    })
}

/// Takes a snapshot of the workspace as its own command; `None` when it is not in a git
/// repository.
#[cfg(test)]
pub async fn snapshot(
    host: &dyn Transport,
    at: Tracked<'_>,
) -> Result<Option<Snapshot>, ChangesError> {
    let out = host
        .exec(&format!("(\n{})", snapshot_script(at)), b"")
        .await?;
    if !out.success() {
        return Err(ChangesError::Git(out.stderr_text()));
    }
    parse_snapshot(&out.stdout_text())
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

fn parse_snapshot(text: &str) -> Result<Option<Snapshot>, ChangesError> {
    if text.lines().any(|l| l == "not-a-repository") {
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

/// The line between the snapshot and commits a [`since_script`] prints and its diff.
const DIFF_MARKER: &str = "diff";

/// A script that prints what changed in the workspace since `before`, as of now: a snapshot
/// ([`snapshot_script`]), the new commits (`commit ID<TAB>SUBJECT` lines), a `diff` line, then
/// one `git diff -z` of the two trees with `--raw`, `--numstat` and the patch (git separates
/// them: the raw entries, the numstat entries, a NUL, the patch). Read it with [`parse_since`];
/// run it in a subshell, with its stderr apart from its stdout (git warns on stderr).
pub fn since_script(at: Tracked<'_>, before: &Snapshot) -> String {
    // Ids from the store are checked again here: they go into a command.
    let (old_tree, old_head) =
        if is_object_id(&before.tree) && before.head.as_deref().is_none_or(is_object_id) {
            (before.tree.as_str(), before.head.as_deref())
        } else {
            return "echo 'the stored snapshot is not an object id' >&2; exit 1".into();
        };
    let commits = match old_head {
        Some(old) => format!("{old}..$head"),
        None => "$head".into(),
    };
    format!(
        r#"{snapshot}case $head in none|{old_head}) ;; *) git log --reverse --format='commit %H%x09%s' {commits} ;; esac
echo {marker}
if [ "$tree" != {old_tree} ]; then
  git -c core.quotePath=false -c diff.noprefix=false diff --no-color --no-ext-diff --find-renames --raw --numstat -p -z --no-abbrev {old_tree} "$tree"
fi
"#,
        snapshot = snapshot_script(at),
        old_head = old_head.unwrap_or("none"),
        marker = DIFF_MARKER,
    )
}

/// Reads what a [`since_script`] printed: the changes since `before`.
pub fn parse_since(output: &[u8]) -> Result<Changes, ChangesError> {
    let marker = format!("\n{DIFF_MARKER}\n");
    let Some(cut) = output
        .windows(marker.len())
        .position(|w| w == marker.as_bytes())
    else {
        return Err(ChangesError::Git(format!(
            "no diff in {:?}",
            String::from_utf8_lossy(output)
        )));
    };
    let head = String::from_utf8_lossy(&output[..cut]);
    if parse_snapshot(&head)?.is_none() {
        return Err(ChangesError::Git(
            "the workspace is no longer a repository".into(),
        ));
    }
    let commits = head
        .lines()
        .filter_map(|l| l.strip_prefix("commit "))
        .filter_map(|l| {
            let (id, subject) = l.split_once('\t')?;
            Some(Commit {
                id: id.to_owned(),
                subject: subject.to_owned(),
            })
        })
        .collect();
    let (files, patch) = parse_diff(&output[cut + marker.len()..])?;
    Ok(Changes {
        files,
        commits,
        patch,
    })
}

/// What changed in the workspace since `before`, as of now, read as its own command.
#[cfg(test)]
pub async fn since(
    host: &dyn Transport,
    at: Tracked<'_>,
    before: &Snapshot,
) -> Result<Changes, ChangesError> {
    let out = host
        .exec(&format!("(\n{})", since_script(at, before)), b"")
        .await?;
    if !out.success() {
        return Err(ChangesError::Git(out.stderr_text()));
    }
    parse_since(&out.stdout)
}

/// `patch`, cut to at most `max` bytes (on a line boundary) with a last line saying so.
pub fn capped(mut patch: String, max: usize) -> String {
    if patch.len() <= max {
        return patch;
    }
    let total = patch.len();
    let cut = patch[..patch.floor_char_boundary(max)]
        .rfind('\n')
        .map_or(0, |n| n + 1);
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

/// NUL-terminated fields of `git diff -z` output, and what follows them.
struct Fields<'a> {
    bytes: &'a [u8],
}

impl<'a> Fields<'a> {
    fn next(&mut self) -> Option<String> {
        let end = self.bytes.iter().position(|b| *b == 0)?;
        let field = String::from_utf8_lossy(&self.bytes[..end]).into_owned();
        self.bytes = &self.bytes[end + 1..];
        Some(field)
    }

    fn peek_is(&self, first: u8) -> bool {
        self.bytes.first() == Some(&first)
    }
}

/// Reads `git diff -z --raw --numstat -p`: the raw entries (modes and status), the numstat
/// entries (line counts, the same paths in the same order), a NUL, then the patch.
fn parse_diff(output: &[u8]) -> Result<(Vec<FileChange>, String), ChangesError> {
    let bad = |what: &str| ChangesError::Git(format!("unexpected git diff output: {what}"));
    let mut fields = Fields { bytes: output };
    let mut raw = Vec::new();
    while fields.peek_is(b':') {
        // ":100644 100644 abc… def… M", then the path (a rename: both paths).
        let meta = fields.next().ok_or_else(|| bad("a raw entry"))?;
        let parts: Vec<String> = meta[1..].split(' ').map(str::to_owned).collect();
        let [old_mode, new_mode, _, new_id, status]: [String; 5] =
            parts.try_into().map_err(|_| bad(&meta))?;
        let first = fields.next().ok_or_else(|| bad("a path"))?;
        let (kind, renamed_from, path) = match status.chars().next() {
            Some('A') => (ChangeKind::Added, None, first),
            Some('D') => (ChangeKind::Deleted, None, first),
            Some('T') => (ChangeKind::TypeChanged, None, first),
            Some('R') => {
                let to = fields.next().ok_or_else(|| bad("a rename's new path"))?;
                (ChangeKind::Renamed, Some(first), to)
            }
            _ => (ChangeKind::Modified, None, first),
        };
        let submodule = [&old_mode, &new_mode].contains(&&"160000".to_owned());
        raw.push((kind, renamed_from, path, submodule, new_mode, new_id));
    }
    let mut files = Vec::with_capacity(raw.len());
    for (kind, renamed_from, path, submodule, new_mode, new_id) in raw {
        // "added\tremoved\tpath", or for a rename "added\tremoved\t" then both paths.
        let stat = fields.next().ok_or_else(|| bad("a numstat entry"))?;
        let mut parts = stat.splitn(3, '\t');
        let (added, removed) = (parts.next(), parts.next());
        if kind == ChangeKind::Renamed {
            fields.next();
            fields.next();
        }
        let lines = match (added, removed) {
            (Some(a), Some(r)) if !submodule => a.parse().ok().zip(r.parse().ok()),
            _ => None,
        };
        files.push(FileChange {
            path,
            renamed_from,
            kind,
            lines,
            submodule: (submodule && new_mode == "160000").then_some(new_id),
        });
    }
    let patch = match fields.next() {
        None => String::new(),
        Some(separator) if separator.is_empty() => {
            String::from_utf8_lossy(fields.bytes).into_owned()
        }
        Some(other) => return Err(bad(&other)),
    };
    Ok((files, patch))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::local::LocalTransport;
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

    /// The workspace `dir` with its snapshot index under `root`'s state dir.
    fn tracked(root: &Path, dir: &str) -> (String, String) {
        let state = root.join("state").display().to_string();
        (dir.to_owned(), snapshot_index(&state, dir))
    }

    fn at<'a>(t: &'a (String, String)) -> Tracked<'a> {
        Tracked {
            dir: &t.0,
            index: &t.1,
        }
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
        let before = snapshot(&host(), at(&tracked(root.path(), d)))
            .await
            .unwrap()
            .expect("a repository");

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
        let changes = since(&host(), at(&tracked(root.path(), d)), &before)
            .await
            .unwrap();

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

    /// The snapshot index stays in the state dir from one snapshot to the next (so only files
    /// whose stat data changed are hashed again), the user's own index is never touched, and a
    /// later snapshot still sees every change: the last turn's, and a file rewritten with the
    /// same size and its old modification time.
    #[tokio::test]
    async fn the_snapshot_index_persists_and_later_snapshots_see_every_change() {
        let root = tempfile::tempdir().unwrap();
        let dir = repo(root.path());
        let t = tracked(root.path(), dir.to_str().unwrap());
        let users_index = std::fs::read(dir.join(".git/index")).unwrap();
        write(&dir, "untracked.txt", b"kept\n");
        let first = snapshot(&host(), at(&t)).await.unwrap().unwrap();
        let listed = |index: &str| {
            let out = Command::new("git")
                .args(["ls-files"])
                .env("GIT_INDEX_FILE", index)
                .current_dir(&dir)
                .output()
                .unwrap();
            String::from_utf8(out.stdout).unwrap()
        };
        assert!(
            listed(&t.1).lines().any(|l| l == "untracked.txt"),
            "the snapshot index is kept at {}",
            t.1
        );

        // A turn changes a file; its end reads the changes through the same index.
        write(
            &dir,
            "src/lib.rs",
            b"fn a() {}\nfn b() {}\nfn turn_one() {}\n",
        );
        let one = since(&host(), at(&t), &first).await.unwrap();
        assert_eq!(one.files.len(), 1, "{one:#?}");
        assert_eq!(one.files[0].path, "src/lib.rs");

        // The next turn starts from there: nothing new yet.
        let second = snapshot(&host(), at(&t)).await.unwrap().unwrap();
        assert_ne!(second.tree, first.tree);
        assert!(since(&host(), at(&t), &second).await.unwrap().is_empty());

        // Rewritten in place: same size, same modification time as before.
        let path = dir.join("README.md");
        let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
        let old = std::fs::read(&path).unwrap();
        let mut new = old.clone();
        new[2] = b'S';
        std::fs::write(&path, &new).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        let two = since(&host(), at(&t), &second).await.unwrap();
        assert_eq!(two.files.len(), 1, "{two:#?}");
        assert_eq!(two.files[0].path, "README.md");
        assert_eq!(std::fs::read(dir.join(".git/index")).unwrap(), users_index);
    }

    /// Turns of one workspace may take snapshots at the same moment: each gets the whole tree,
    /// whichever holds the index.
    #[tokio::test]
    async fn simultaneous_snapshots_of_one_workspace_all_succeed() {
        let root = tempfile::tempdir().unwrap();
        let dir = repo(root.path());
        for n in 0..200 {
            write(&dir, &format!("many/{n}.txt"), format!("{n}\n").as_bytes());
        }
        let t = tracked(root.path(), dir.to_str().unwrap());
        let host = host();
        let taken = futures_util::future::join_all((0..6).map(|_| snapshot(&host, at(&t)))).await;
        let trees: Vec<String> = taken
            .into_iter()
            .map(|s| s.expect("a snapshot").expect("a repository").tree)
            .collect();
        assert!(trees.iter().all(|tree| *tree == trees[0]), "{trees:?}");
        git(&dir, &["add", "-A"]);
        assert_eq!(git(&dir, &["write-tree"]).trim(), trees[0]);
    }

    #[tokio::test]
    async fn nothing_changed_is_empty_and_repositories_without_commits_work() {
        let root = tempfile::tempdir().unwrap();
        let dir = repo(root.path());
        let d = dir.to_str().unwrap();
        let before = snapshot(&host(), at(&tracked(root.path(), d)))
            .await
            .unwrap()
            .unwrap();
        let status_before = git(&dir, &["status", "--porcelain"]);
        let changes = since(&host(), at(&tracked(root.path(), d)), &before)
            .await
            .unwrap();
        assert!(changes.is_empty(), "{changes:#?}");
        assert_eq!(changes.patch, "");
        assert_eq!(git(&dir, &["status", "--porcelain"]), status_before);

        let fresh = root.path().join("fresh");
        std::fs::create_dir(&fresh).unwrap();
        git(&fresh, &["init", "-q"]);
        let f = fresh.to_str().unwrap();
        let before = snapshot(&host(), at(&tracked(root.path(), f)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(before.head, None);
        write(&fresh, "a.txt", b"a\n");
        git(&fresh, &["add", "a.txt"]);
        git(&fresh, &["commit", "-qm", "first"]);
        let changes = since(&host(), at(&tracked(root.path(), f)), &before)
            .await
            .unwrap();
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
        let before = snapshot(&host(), at(&tracked(root.path(), a)))
            .await
            .unwrap()
            .unwrap();
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
        let changes = since(&host(), at(&tracked(root.path(), a)), &before)
            .await
            .unwrap();
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
            snapshot(&host(), at(&tracked(root.path(), plain.to_str().unwrap())))
                .await
                .unwrap(),
            None
        );
        assert!(
            snapshot(&host(), at(&tracked(root.path(), "/no/such/dir")))
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn images_are_found_and_read_within_a_size() {
        let root = tempfile::tempdir().unwrap();
        let dir = repo(root.path());
        let d = dir.to_str().unwrap();
        let before = snapshot(&host(), at(&tracked(root.path(), d)))
            .await
            .unwrap()
            .unwrap();
        write(&dir, "out/Chart 1.PNG", &[0x89, b'P', b'N', b'G', 1, 2, 3]);
        write(&dir, "photo.jpg", &[0xff; 64]);
        write(&dir, "notes.md", b"not an image");
        let changes = since(&host(), at(&tracked(root.path(), d)), &before)
            .await
            .unwrap();
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
        assert!(parse_diff(b":100644 100644 a b\0x\0\x31\t1\tx\0").is_err());
        assert!(
            parse_since(b"head none\ntree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n").is_err()
        );
    }
}
