//! The repositories are real bare git repositories on disk, changed only
//! with the `git` tool: tests commit through plumbing (a temporary index, no
//! work tree), so commit ids are those git computes, and diffs are `git diff`
//! output, exactly what the bot would get from a clone.
//!
//! Every command runs with the user's and the system's git config switched
//! off, so a developer's `~/.gitconfig` cannot change what tests see.
//! All functions here block; async callers use `spawn_blocking`.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::SystemTime;

use super::auth::unix;

pub(super) const ZERO_SHA: &str = "0000000000000000000000000000000000000000";

/// A `git` command with an isolated configuration.
pub(super) fn command(git_dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("--git-dir")
        .arg(git_dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_OBJECT_DIRECTORY");
    cmd
}

/// Runs git and returns its stdout; panics with stderr on failure (the
/// fake's own git calls failing is a bug in the fake or the test).
pub(super) fn run(git_dir: &Path, args: &[&str], envs: &[(&str, &str)], stdin: &[u8]) -> String {
    try_run(git_dir, args, envs, stdin).unwrap_or_else(|e| panic!("fake GitHub: {e}"))
}

pub(super) fn try_run(
    git_dir: &Path,
    args: &[&str],
    envs: &[(&str, &str)],
    stdin: &[u8],
) -> Result<String, String> {
    let mut cmd = command(git_dir);
    cmd.args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run git (is it installed?): {e}"))?;
    let mut input = child.stdin.take().expect("piped");
    // Small inputs only (file contents of test commits); write then close.
    input
        .write_all(stdin)
        .map_err(|e| format!("git {args:?}: write stdin: {e}"))?;
    drop(input);
    let out = child
        .wait_with_output()
        .map_err(|e| format!("git {args:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("git {args:?}: output not UTF-8: {e}"))
}

/// A bare repository whose default branch is `main` and that accepts pushes
/// over smart HTTP.
pub(super) fn init_bare(git_dir: &Path) {
    std::fs::create_dir_all(git_dir).expect("fake GitHub: create repo dir");
    run(
        git_dir,
        &["init", "--quiet", "--bare", "-b", "main"],
        &[],
        b"",
    );
    run(git_dir, &["config", "http.receivepack", "true"], &[], b"");
    // Like GitHub: no reflog noise, no auto-gc pauses in the middle of a test.
    run(git_dir, &["config", "gc.auto", "0"], &[], b"");
}

/// Who made a commit, and when.
pub(super) struct Signature<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub at: SystemTime,
}

/// Commits `files` (`None` deletes) on top of `parent` (or as a root
/// commit) and points `refname` at it, compare-and-swap against `expected`
/// (the old value, or `None` for "must not exist"). Returns the commit id.
pub(super) fn commit(
    git_dir: &Path,
    scratch: &Path,
    refname: &str,
    parent: Option<&str>,
    files: &[(&str, Option<&str>)],
    message: &str,
    who: &Signature<'_>,
) -> String {
    let index = scratch.join(format!("index-{}", uuid::Uuid::new_v4()));
    let index_str = index.to_str().expect("temp paths are UTF-8");
    let env = [("GIT_INDEX_FILE", index_str)];
    match parent {
        Some(p) => run(git_dir, &["read-tree", p], &env, b""),
        None => run(git_dir, &["read-tree", "--empty"], &env, b""),
    };
    let mut index_info = String::new();
    for (path, content) in files {
        match content {
            Some(content) => {
                let blob = run(
                    git_dir,
                    &["hash-object", "-w", "--stdin"],
                    &[],
                    content.as_bytes(),
                );
                index_info.push_str(&format!("100644 blob {}\t{path}\n", blob.trim()));
            }
            None => index_info.push_str(&format!("0 {ZERO_SHA}\t{path}\n")),
        }
    }
    run(
        git_dir,
        &["update-index", "--index-info"],
        &env,
        index_info.as_bytes(),
    );
    let tree = run(git_dir, &["write-tree"], &env, b"");
    let _ = std::fs::remove_file(&index);
    let date = format!("{} +0000", unix(who.at));
    let sig_env = [
        ("GIT_AUTHOR_NAME", who.name),
        ("GIT_AUTHOR_EMAIL", who.email),
        ("GIT_AUTHOR_DATE", date.as_str()),
        ("GIT_COMMITTER_NAME", who.name),
        ("GIT_COMMITTER_EMAIL", who.email),
        ("GIT_COMMITTER_DATE", date.as_str()),
    ];
    let mut args = vec!["commit-tree", tree.trim(), "-F", "-"];
    if let Some(p) = parent {
        args.extend(["-p", p]);
    }
    let sha = run(git_dir, &args, &sig_env, message.as_bytes())
        .trim()
        .to_string();
    run(
        git_dir,
        &["update-ref", refname, &sha, parent.unwrap_or(ZERO_SHA)],
        &[],
        b"",
    );
    sha
}

/// Points `refname` at `sha`.
pub(super) fn update_ref(git_dir: &Path, refname: &str, sha: &str) {
    run(git_dir, &["update-ref", refname, sha], &[], b"");
}

/// Every branch and its commit.
pub(super) fn branches(git_dir: &Path) -> BTreeMap<String, String> {
    run(
        git_dir,
        &[
            "for-each-ref",
            "--format=%(objectname) %(refname:strip=2)",
            "refs/heads/",
        ],
        &[],
        b"",
    )
    .lines()
    .filter_map(|l| l.split_once(' '))
    .map(|(sha, name)| (name.to_string(), sha.to_string()))
    .collect()
}

/// What `refname` points at, if it exists.
pub(super) fn resolve(git_dir: &Path, refname: &str) -> Option<String> {
    try_run(
        git_dir,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{refname}^{{commit}}"),
        ],
        &[],
        b"",
    )
    .ok()
    .map(|s| s.trim().to_string())
    .filter(|s| !s.is_empty())
}

/// The pull request diff GitHub shows: `git diff base...head` (from the
/// merge base), rename detection on, abbreviated index lines.
pub(super) fn pr_diff(git_dir: &Path, base: &str, head: &str) -> String {
    run(
        git_dir,
        &[
            "-c",
            "core.quotePath=false",
            "diff",
            "--no-color",
            "--no-ext-diff",
            "-M",
            &format!("{base}...{head}"),
        ],
        &[],
        b"",
    )
}

/// One file of a diff, as `GET /pulls/{n}/files` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FileDiff {
    pub filename: String,
    pub previous_filename: Option<String>,
    /// `added`, `removed`, `modified` or `renamed`.
    pub status: &'static str,
    pub additions: u64,
    pub deletions: u64,
    /// From the first `@@` on, without a trailing newline; `None` for binary
    /// files and pure renames.
    pub patch: Option<String>,
}

/// Splits a `git diff` into files.
pub(super) fn parse_diff(diff: &str) -> Vec<FileDiff> {
    let mut sections: Vec<Vec<&str>> = Vec::new();
    for line in diff.lines() {
        if line.starts_with("diff --git ") || sections.is_empty() {
            sections.push(Vec::new());
        }
        sections.last_mut().expect("pushed").push(line);
    }
    sections
        .into_iter()
        .filter(|s| s.first().is_some_and(|l| l.starts_with("diff --git ")))
        .map(|lines| parse_section(&lines))
        .collect()
}

fn parse_section(lines: &[&str]) -> FileDiff {
    let hunk_start = lines.iter().position(|l| l.starts_with("@@"));
    let header = &lines[..hunk_start.unwrap_or(lines.len())];
    let field = |prefix: &str| {
        header
            .iter()
            .find_map(|l| l.strip_prefix(prefix))
            .map(str::to_string)
    };
    let status = if field("new file mode").is_some() {
        "added"
    } else if field("deleted file mode").is_some() {
        "removed"
    } else if field("rename from ").is_some() {
        "renamed"
    } else {
        "modified"
    };
    // `diff --git a/P b/P`: without quoting, both names are equal unless
    // renamed, so the midpoint finds the name even when it contains " b/".
    let from_git_line = || {
        let rest = &lines[0]["diff --git a/".len()..];
        let half = rest.len().saturating_sub(3) / 2;
        rest.get(half..)
            .and_then(|s| s.strip_prefix(" b/"))
            .unwrap_or(rest)
            .to_string()
    };
    let filename = field("rename to ")
        .or_else(|| field("+++ b/"))
        .or_else(|| field("--- a/"))
        .unwrap_or_else(from_git_line);
    let patch_lines = hunk_start.map(|i| &lines[i..]).unwrap_or_default();
    let count = |c: char| {
        patch_lines
            .iter()
            .filter(|l| !l.starts_with("@@") && l.starts_with(c))
            .count() as u64
    };
    FileDiff {
        filename,
        previous_filename: field("rename from "),
        status,
        additions: count('+'),
        deletions: count('-'),
        patch: hunk_start.map(|_| patch_lines.join("\n")),
    }
}

/// Where a review comment on new-side line `line` of a file's patch sits:
/// GitHub's `diff_hunk` (the hunk header through that line) and `position`
/// (lines below the first `@@`). `None` when the line is not in the diff.
pub(super) fn locate_line(patch: &str, line: u64) -> Option<(String, u64)> {
    let lines: Vec<&str> = patch.lines().collect();
    let mut hunk_start = 0;
    let mut new_line = 0u64;
    for (i, l) in lines.iter().enumerate() {
        if let Some(header) = l.strip_prefix("@@ ") {
            hunk_start = i;
            // `@@ -a,b +c,d @@`: the new side starts at c.
            let plus = header.split_whitespace().find(|w| w.starts_with('+'))?;
            let start = plus[1..].split(',').next()?.parse::<u64>().ok()?;
            new_line = start;
            continue;
        }
        if l.starts_with('-') || l.starts_with('\\') {
            continue;
        }
        if new_line == line {
            return Some((lines[hunk_start..=i].join("\n"), i as u64));
        }
        new_line += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "\
diff --git a/Cargo.lock b/Cargo.lock
index 1111111..2222222 100644
--- a/Cargo.lock
+++ b/Cargo.lock
@@ -1,4 +1,4 @@
 [[package]]
 name = \"serde\"
-version = \"1.0.1\"
+version = \"1.0.2\"
 
@@ -10,2 +10,3 @@ name = \"x\"
 a
+b
 c
diff --git a/new file.txt b/new file.txt
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/new file.txt
@@ -0,0 +1 @@
+hello
diff --git a/gone.txt b/gone.txt
deleted file mode 100644
index 4444444..0000000
--- a/gone.txt
+++ /dev/null
@@ -1,2 +0,0 @@
-bye
-now
\\ No newline at end of file
diff --git a/old.rs b/new.rs
similarity index 100%
rename from old.rs
rename to new.rs
diff --git a/logo.png b/logo.png
index 5555555..6666666 100644
Binary files a/logo.png and b/logo.png differ
";

    #[test]
    fn files_of_a_diff() {
        let files = parse_diff(DIFF);
        let summary: Vec<_> = files
            .iter()
            .map(|f| (f.filename.as_str(), f.status, f.additions, f.deletions))
            .collect();
        assert_eq!(
            summary,
            [
                ("Cargo.lock", "modified", 2, 1),
                ("new file.txt", "added", 1, 0),
                ("gone.txt", "removed", 0, 2),
                ("new.rs", "renamed", 0, 0),
                ("logo.png", "modified", 0, 0),
            ]
        );
        assert_eq!(files[3].previous_filename.as_deref(), Some("old.rs"));
        assert!(files[3].patch.is_none() && files[4].patch.is_none());
        assert_eq!(files[1].patch.as_deref(), Some("@@ -0,0 +1 @@\n+hello"));
    }

    #[test]
    fn diff_hunk_and_position_of_a_line() {
        let patch = parse_diff(DIFF)[0].patch.clone().unwrap();
        let (hunk, position) = locate_line(&patch, 3).unwrap();
        assert_eq!(
            hunk,
            "@@ -1,4 +1,4 @@\n [[package]]\n name = \"serde\"\n-version = \"1.0.1\"\n+version = \"1.0.2\""
        );
        assert_eq!(position, 4);
        let (hunk, position) = locate_line(&patch, 11).unwrap();
        assert_eq!(hunk, "@@ -10,2 +10,3 @@ name = \"x\"\n a\n+b");
        assert_eq!(position, 8);
        assert_eq!(locate_line(&patch, 7), None, "not part of the diff");
    }
}
