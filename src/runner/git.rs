//! Git checkouts on a host: fetched before a turn, pushed back after it.
//!
//! The token a platform hands out (a GitHub installation token) is given to git for the one
//! command that needs it and nowhere else: it travels as the first line of the script's stdin,
//! lives in a variable of that shell, is in the environment of the fetch or push alone, and
//! reaches git through a credential helper defined with `-c` on the command line — so it is
//! never part of a remote URL, never written to a git config file or the disk, and never in a
//! process's arguments. The checkout is the agent's to write, hooks included: the fetch and the
//! push run no hooks, and no other command of the script sees the token.
//!
//! A checkout (a GitHub pull request's head, an issue's branch) is a `git worktree` of the
//! host's shared bare clone of its repository (`runner::shared_clone`, the one `/new owner/repo`
//! sessions use too): the objects are fetched once per host, each checkout fetches into refs of
//! its own (`refs/switchboard/checkouts/<name>/`, see [`CheckoutAt`]), and a later turn of the
//! same pull request fetches into the same clone — nothing is cloned again. The worktree is on
//! a branch of its own (`switchboard/<name>`), and its `base` ref names the commit it was last
//! brought to: commits after `base` are the agent's own. A new turn moves the branch to the
//! freshly fetched commit only when the agent has no unpushed work there (no commits after
//! `base`, nothing uncommitted); otherwise the agent continues where it left off — also when
//! the idle clean-up removed the worktree (`runner::cleanup::remove_checkout`) and kept the
//! branch for those commits: the worktree is made again on it.
//!
//! A full checkout made before checkouts shared a clone is migrated on its next turn: its
//! commits move into the clone, and it becomes a worktree with its files as they were.

use super::shared_clone::{self, LOCK_AND_INIT, PLACE_WORKTREE};
use super::shell::{quote, quote_path, reported};
use super::transport::{Transport, TransportError};
use crate::config::Secret;
use crate::domain::workspace::{GitCheckout, PushTarget};

/// How git gets the token: a helper that answers `get` from the environment — only for the
/// protocol and host of the URL this script fetches or pushes. The checkout's own config is the
/// agent's to write: a `url.<elsewhere>.insteadOf` there would send the fetch (and so the
/// request for credentials) to another server, which is given nothing.
const CREDENTIAL_HELPER: &str = r#"!f() { test "$1" = get || return 0; p=; h=; while IFS= read -r l && [ -n "$l" ]; do case $l in protocol=*) p=${l#protocol=};; host=*) h=${l#host=};; esac; done; test -n "$SB_GIT_HOST" && test "$p" = "$SB_GIT_PROTOCOL" && test "$h" = "$SB_GIT_HOST" && echo username=x-access-token && echo "password=$SB_GIT_TOKEN"; }; f"#;

/// The protocol and host (with a port other than the scheme's own) git names in a credential
/// request for `url`, e.g. `("https", "github.com")`; `None` for a path or a URL without a host.
fn credential_origin(url: &str) -> Option<(String, String)> {
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed.host_str()?;
    let host = match parsed.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    Some((parsed.scheme().to_owned(), host))
}

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("{0}")]
    Failed(String),
}

/// A prepared checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The commit the agent starts from.
    pub head: String,
    /// False when the agent's unpushed work was kept instead of moving to the fetched commit.
    pub moved: bool,
}

/// The shell prelude of every script here: reads the token, defines `gitc` (git with it for
/// `url`'s origin only, and without the checkout's hooks).
pub(super) fn prelude(dir: &str, url: &str) -> String {
    let (protocol, host) = credential_origin(url).unwrap_or_default();
    format!(
        r#"set -e
IFS= read -r sb_git_token
gitc() {{ SB_GIT_TOKEN=$sb_git_token SB_GIT_PROTOCOL={protocol} SB_GIT_HOST={host} git -c core.hooksPath=/dev/null -c credential.helper= -c credential.helper={helper} -c core.askPass= "$@"; }}
d={dir}
mkdir -p "$d"
cd "$d"
"#,
        protocol = quote(&protocol),
        host = quote(&host),
        helper = quote(CREDENTIAL_HELPER),
        dir = quote_path(dir),
    )
}

pub(super) fn stdin(token: &Secret) -> Vec<u8> {
    format!("{}\n", token.expose()).into_bytes()
}

/// Who a commit made for someone is by: the person as author, Switchboard as committer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitAs {
    pub author_name: String,
    pub author_email: String,
    /// The commit message (any text: it reaches git on stdin, never through the shell).
    pub message: String,
}

/// The committer of every commit Switchboard makes.
pub const COMMITTER: (&str, &str) = ("Switchboard", "switchboard@users.noreply.github.com");

/// Script lines that commit what is uncommitted in the current directory as the author that
/// follows the token on the script's stdin ([`stdin_with_commit`]), the rest of stdin the
/// message; `committed` says `yes` or `no`. Hooks do not run: the checkout is the agent's.
pub(super) fn commit_uncommitted() -> String {
    format!(
        r#"IFS= read -r sb_author_name
IFS= read -r sb_author_email
committed=no
if [ -n "$(git status --porcelain)" ]; then
  git add -A
  GIT_AUTHOR_NAME=$sb_author_name GIT_AUTHOR_EMAIL=$sb_author_email GIT_COMMITTER_NAME={name} GIT_COMMITTER_EMAIL={email} git -c core.hooksPath=/dev/null commit -q --no-verify -F -
  committed=yes
fi"#,
        name = quote(COMMITTER.0),
        email = quote(COMMITTER.1),
    )
}

/// The stdin of a script that reads the token, then commits as `commit` says
/// ([`commit_uncommitted`]).
pub(super) fn stdin_with_commit(token: &Secret, commit: &CommitAs) -> Vec<u8> {
    let one_line = |text: &str| text.replace(['\n', '\r', '\0'], " ");
    let mut input = stdin(token);
    input.extend_from_slice(
        format!(
            "{}\n{}\n{}",
            one_line(&commit.author_name),
            one_line(&commit.author_email),
            commit.message.replace('\0', "")
        )
        .as_bytes(),
    );
    input
}

/// Where a checkout is on a host: its worktree, the shared clone it is a worktree of, and its
/// names in that clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutAt {
    /// The worktree (absolute or `~/`-relative).
    pub dir: String,
    /// The repository's shared bare clone.
    pub clone: String,
    /// The worktree's branch (`switchboard/pr-7`).
    pub branch: String,
    /// The prefix of its refs (`refs/switchboard/checkouts/pr-7`).
    pub refs: String,
}

impl CheckoutAt {
    /// Where `checkout` is on a host whose workdir is `workdir`.
    pub fn of(checkout: &GitCheckout, workdir: &str) -> CheckoutAt {
        CheckoutAt {
            dir: checkout.path_in(workdir),
            clone: checkout.clone_path_in(workdir),
            branch: checkout.local_branch(),
            refs: checkout.refs_prefix(),
        }
    }

    /// The ref naming the commit the checkout was last brought to: the agent's own commits
    /// are the ones after it.
    pub(super) fn base(&self) -> String {
        format!("{}/base", self.refs)
    }

    fn fetched(&self) -> String {
        format!("{}/fetched", self.refs)
    }
}

/// The refspecs a checkout fetches, quoted: `$src` (its ref, chosen by the script) and its base.
fn refspecs(at: &CheckoutAt, checkout: &GitCheckout) -> String {
    let mut specs = vec![format!("\"+$src:\"{}", quote(&at.fetched()))];
    if let Some(base) = &checkout.base_ref {
        specs.push(quote(&format!("+{base}:{}", checkout.base_branch_ref())));
    }
    specs.join(" ")
}

/// Script lines that set `src` to the ref to fetch: the checkout's `resume_ref` when the remote
/// has it, else its `fetch_ref`.
fn choose_source(checkout: &GitCheckout) -> String {
    let fetch = quote(&checkout.fetch_ref);
    match &checkout.resume_ref {
        None => format!("src={fetch}\n"),
        Some(resume) => format!(
            r#"src={fetch}
rc=0; out=$(gitc ls-remote --exit-code {url} {resume} 2>&1 < /dev/null) || rc=$?
case $rc in
  0) src={resume} ;;
  2) ;;
  *) printf '%s\n' "$out" | tail -n 5 >&2; exit 1 ;;
esac
"#,
            url = quote(&checkout.clone_url),
            resume = quote(resume),
        ),
    }
}

/// Script lines, run in the shared clone under its lock, that turn a full checkout made at `$w`
/// before checkouts shared a clone into a worktree of it: its commit (and its base) move into
/// the clone on the checkout's branch, and its `.git` directory is swapped for the worktree's,
/// so the files — the agent's uncommitted work included — stay exactly as they are. A checkout
/// whose first fetch never came (no commit) just loses its `.git`.
fn migrate_full_checkout(at: &CheckoutAt) -> String {
    format!(
        r#"if [ -d "$w/.git" ]; then
  if git -C "$w" rev-parse -q --verify HEAD > /dev/null; then
    # (What an interrupted migration left goes first: its branch would refuse the fetch.)
    rm -rf "$w.sb-new" && git worktree prune
    git fetch -q --no-tags "$w" {head_spec}
    if git -C "$w" rev-parse -q --verify refs/switchboard/base > /dev/null; then
      git fetch -q --no-tags "$w" {base_spec}
    else
      git update-ref {base} {branch_ref}
    fi
    git worktree add -q -f --no-checkout "$w.sb-new" {branch} > /dev/null
    rm -rf "$w/.git" && mv "$w.sb-new/.git" "$w/.git" && rmdir "$w.sb-new"
    git worktree repair "$w" > /dev/null 2>&1
    (cd "$w" && git reset -q)
  else
    rm -rf "$w/.git"
  fi
fi
"#,
        head_spec = quote(&format!("+HEAD:refs/heads/{}", at.branch)),
        base_spec = quote(&format!("+refs/switchboard/base:{}", at.base())),
        base = quote(&at.base()),
        branch_ref = quote(&format!("refs/heads/{}", at.branch)),
        branch = quote(&at.branch),
    )
}

/// Fetches the checkout's ref into the shared clone at `at` and checks it out in the
/// checkout's worktree (made on the first turn): moved to the fetched commit unless the agent
/// has unpushed work there.
pub async fn prepare(
    host: &dyn Transport,
    at: &CheckoutAt,
    checkout: &GitCheckout,
    token: &Secret,
) -> Result<Prepared, GitError> {
    let script = format!(
        r#"{enter}w={dir}
{lock_and_init}{migrate}{source}{fetch}new=$(git rev-parse {fetched})
moved=yes
if [ -e "$w/.git" ]; then
  cd "$w"
  if cur=$(git rev-parse -q --verify {branch_ref}); then
    base=$(git rev-parse -q --verify {base} || echo none)
    if [ "$cur" != "$base" ] || ! git diff --quiet HEAD -- || ! git diff --cached --quiet; then
      moved=no
    fi
  fi
  if [ $moved = yes ]; then git checkout -q -f -B {branch} "$new"; fi
else
  start=$new
  # A branch the clean-up kept, with the agent's unpushed commits: continued, like a worktree's.
  if cur=$(git rev-parse -q --verify {branch_ref}) && base=$(git rev-parse -q --verify {base}) && [ "$cur" != "$base" ]; then
    start=$cur; moved=no
  fi
  add() {{ git worktree add -q -f -B {branch} "$1" "$start" > /dev/null; }}
{place}  cd "$w"
fi
if [ $moved = yes ]; then git update-ref {base} "$new"; fi
echo "head $(git rev-parse HEAD)"
echo "moved $moved""#,
        enter = shared_clone::enter(&at.clone, &checkout.clone_url),
        dir = quote_path(&at.dir),
        lock_and_init = LOCK_AND_INIT,
        migrate = migrate_full_checkout(at),
        source = choose_source(checkout),
        fetch = shared_clone::fetch(&checkout.clone_url, &refspecs(at, checkout)),
        fetched = quote(&at.fetched()),
        branch_ref = quote(&format!("refs/heads/{}", at.branch)),
        base = quote(&at.base()),
        branch = quote(&at.branch),
        place = PLACE_WORKTREE,
    );
    let out = host.exec(&script, &stdin(token)).await?;
    if !out.success() {
        return Err(GitError::Failed(format!(
            "fetching {} failed: {}",
            checkout.fetch_ref,
            out.stderr_text()
        )));
    }
    let text = out.stdout_text();
    let field = |name: &str| reported(&text, name);
    Ok(Prepared {
        head: field("head ").ok_or_else(|| GitError::Failed(format!("no head in {text:?}")))?,
        moved: field("moved ").as_deref() != Some("no"),
    })
}

/// What pushing found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// The checkout's commit now (pushed, unless `commits` is empty and it never was).
    pub head: String,
    /// The commits pushed now (`abc1234 subject`, oldest first); empty: nothing new.
    pub commits: Vec<String>,
    /// Whether what the agent left uncommitted was committed first.
    pub committed: bool,
}

/// Pushes the agent's commits (those after the checkout's base ref) to the target branch —
/// after committing what it left uncommitted, when `commit` says as whom.
pub async fn push(
    host: &dyn Transport,
    at: &CheckoutAt,
    target: &PushTarget,
    commit: Option<&CommitAs>,
    token: &Secret,
) -> Result<Pushed, GitError> {
    let script = format!(
        r#"{prelude}export GIT_TERMINAL_PROMPT=0
{commit}
b={base}
# A full checkout of its own, prepared before checkouts shared a clone (its turn outlived an
# upgrade): its base is where it always was.
[ -f .git ] || b=refs/switchboard/base
base=$(git rev-parse "$b")
head=$(git rev-parse HEAD)
echo "head $head"
echo "committed ${{committed:-no}}"
if [ "$base" = "$head" ]; then exit 0; fi
if ! git merge-base --is-ancestor "$base" "$head"; then echo "the agent's branch no longer contains the pull request's head" >&2; exit 3; fi
git log --reverse --format='commit %h %s' "$base..$head"
if ! out=$(gitc push -q {url} {refspec} 2>&1); then
  printf '%s\n' "$out" | tail -n 5 >&2; exit 1
fi
git update-ref "$b" "$head""#,
        prelude = prelude(&at.dir, &target.url),
        commit = if commit.is_some() {
            commit_uncommitted()
        } else {
            String::new()
        },
        base = quote(&at.base()),
        url = quote(&target.url),
        refspec = quote(&format!("HEAD:refs/heads/{}", target.branch)),
    );
    let input = match commit {
        Some(commit) => stdin_with_commit(token, commit),
        None => stdin(token),
    };
    let out = host.exec(&script, &input).await?;
    if !out.success() {
        return Err(GitError::Failed(format!(
            "pushing to {} failed: {}",
            target.branch,
            out.stderr_text()
        )));
    }
    let text = out.stdout_text();
    Ok(Pushed {
        head: reported(&text, "head ")
            .ok_or_else(|| GitError::Failed(format!("no head in {text:?}")))?,
        commits: text
            .lines()
            .filter_map(|l| l.strip_prefix("commit "))
            .map(str::to_owned)
            .collect(),
        committed: reported(&text, "committed ").as_deref() == Some("yes"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::workspace::Credential;
    use crate::runner::local::LocalTransport;
    use crate::runner::test_git::{git, origin, pull_checkout};
    use std::path::{Path, PathBuf};
    use std::process::Command;

    /// Asks the credential helper, as git would, for `protocol://host`.
    fn ask_helper(protocol: &str, host: &str) -> String {
        use std::io::Write;
        let script = CREDENTIAL_HELPER.strip_prefix('!').unwrap();
        let mut child = Command::new("sh")
            .args(["-c", &format!("{script} \"$@\""), "helper", "get"])
            .env("SB_GIT_TOKEN", "tok3n")
            .env("SB_GIT_PROTOCOL", "https")
            .env("SB_GIT_HOST", "github.example:8443")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        write!(
            child.stdin.take().unwrap(),
            "protocol={protocol}\nhost={host}\npath=o/r.git\n\n"
        )
        .unwrap();
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
    }

    /// The token goes only to the origin of the URL being fetched: a checkout config that
    /// rewrites the URL (`insteadOf`) to another host or scheme gets nothing.
    #[test]
    fn the_helper_answers_only_for_the_fetched_origin() {
        assert_eq!(
            ask_helper("https", "github.example:8443"),
            "username=x-access-token\npassword=tok3n\n"
        );
        for (protocol, host) in [
            ("https", "evil.example"),
            ("https", "github.example"),
            ("http", "github.example:8443"),
            ("https", "github.example:8443.evil.example"),
        ] {
            assert_eq!(ask_helper(protocol, host), "", "{protocol}://{host}");
        }
        assert_eq!(
            credential_origin("https://github.example:8443/o/r.git"),
            Some(("https".into(), "github.example:8443".into()))
        );
        assert_eq!(
            credential_origin("https://github.com/o/r.git"),
            Some(("https".into(), "github.com".into()))
        );
        assert_eq!(credential_origin("/srv/git/r.git"), None);
    }

    /// A bare "remote" with a `feature` branch one commit ahead of `main`.
    fn remote(root: &Path) -> (PathBuf, String) {
        let work = origin(root);
        git(&work, &["checkout", "-q", "-b", "feature"]);
        std::fs::write(work.join("a.txt"), "two\n").unwrap();
        git(&work, &["commit", "-q", "-am", "second"]);
        let head = git(&work, &["rev-parse", "HEAD"]);
        let bare = root.join("remote.git");
        git(
            root,
            &[
                "clone",
                "-q",
                "--bare",
                work.to_str().unwrap(),
                bare.to_str().unwrap(),
            ],
        );
        (bare, head)
    }

    /// The token is nowhere under `root`: not in a checkout's or the clone's config, not in
    /// what hooks saw, nowhere else.
    fn assert_token_nowhere(root: &Path, token: &Secret) {
        let grep = Command::new("grep")
            .args(["-r", "-l", token.expose()])
            .arg(root)
            .output()
            .unwrap();
        assert!(
            grep.stdout.is_empty(),
            "token found in {}",
            String::from_utf8_lossy(&grep.stdout)
        );
    }

    #[tokio::test]
    async fn checkout_agent_commits_and_push_back() {
        let root = tempfile::tempdir().unwrap();
        let (bare, head) = remote(root.path());
        let host = LocalTransport::new("local");
        let checkout = pull_checkout(&bare, "pr-1", "refs/heads/feature");
        let workdir = root.path().join("work").display().to_string();
        let at = CheckoutAt::of(&checkout, &workdir);
        assert_eq!(
            (at.dir.as_str(), at.branch.as_str()),
            (
                format!("{workdir}/github/octo/app/pr-1").as_str(),
                "switchboard/pr-1"
            )
        );
        assert_eq!(
            at.clone,
            format!("{workdir}/projects/github/octo/app/clone")
        );
        let token = Secret::new("t0ken-not-in-files");
        let prepared = prepare(&host, &at, &checkout, &token).await.unwrap();
        assert_eq!(
            prepared,
            Prepared {
                head: head.clone(),
                moved: true
            }
        );
        let co = Path::new(&at.dir);
        assert_eq!(std::fs::read_to_string(co.join("a.txt")).unwrap(), "two\n");
        let merge_base = git(co, &["merge-base", "HEAD", &checkout.base_branch_ref()]);
        assert_eq!(git(co, &["log", "-1", "--format=%s", &merge_base]), "first");

        // Another pull request of the repository is a worktree of the same clone, on a branch
        // and refs of its own.
        let other = GitCheckout {
            base_ref: Some("refs/heads/feature".into()),
            ..pull_checkout(&bare, "pr-2", "refs/heads/main")
        };
        let other_at = CheckoutAt::of(&other, &workdir);
        prepare(&host, &other_at, &other, &token).await.unwrap();
        let common = |dir: &str| {
            git(
                Path::new(dir),
                &["rev-parse", "--path-format=absolute", "--git-common-dir"],
            )
        };
        assert_eq!(common(&at.dir), common(&other_at.dir));
        assert_eq!(common(&at.dir), at.clone);
        assert!(co.join(".git").is_file(), "a worktree, not a clone");
        let clone = Path::new(&at.clone);
        assert_eq!(
            git(clone, &["rev-parse", &checkout.base_branch_ref()]),
            git(&bare, &["rev-parse", "main"])
        );
        assert_eq!(
            git(clone, &["rev-parse", &other.base_branch_ref()]),
            head,
            "each checkout's base branch is its own"
        );
        assert_eq!(git(co, &["branch", "--show-current"]), "switchboard/pr-1");

        // The agent may leave hooks in its checkout's git directory: they never see the token.
        for hook in ["post-checkout", "reference-transaction", "pre-push"] {
            let path = clone.join("hooks").join(hook);
            let dump = root.path().join(format!("{hook}.env"));
            std::fs::write(&path, format!("#!/bin/sh\nenv >> '{}'\n", dump.display())).unwrap();
            let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
            std::fs::set_permissions(&path, mode).unwrap();
        }

        // The agent commits; a new turn keeps its unpushed work.
        std::fs::write(co.join("b.txt"), "agent\n").unwrap();
        git(co, &["add", "."]);
        git(co, &["commit", "-q", "-m", "agent work"]);
        let again = prepare(&host, &at, &checkout, &token).await.unwrap();
        assert!(!again.moved);
        assert_ne!(again.head, head);

        let target = PushTarget {
            url: bare.display().to_string(),
            branch: "feature".into(),
        };
        let pushed = push(&host, &at, &target, None, &token).await.unwrap();
        assert!(pushed.commits.len() == 1 && pushed.commits[0].ends_with("agent work"));
        assert_eq!(git(&bare, &["rev-parse", "feature"]), again.head);
        assert_eq!(pushed.head, again.head);
        assert_eq!(
            push(&host, &at, &target, None, &token).await.unwrap(),
            Pushed {
                head: again.head.clone(),
                commits: Vec::new(),
                committed: false,
            }
        );

        // Pushed and clean: the next turn moves to the fetched commit (a checkout, whose hook runs).
        let moved = prepare(&host, &at, &checkout, &token).await.unwrap();
        assert!(moved.moved);
        assert!(
            root.path().join("post-checkout.env").exists(),
            "the hooks ran (for commands without the token)"
        );
        assert_token_nowhere(root.path(), &token);

        let missing = GitCheckout {
            fetch_ref: "refs/heads/nope".into(),
            ..checkout
        };
        let err = prepare(&host, &at, &missing, &token).await.unwrap_err();
        assert!(
            err.to_string().contains("fetching refs/heads/nope failed"),
            "{err}"
        );
    }

    /// A full checkout made before checkouts shared a clone becomes a worktree of it on its
    /// next turn: the agent's unpushed commit and its uncommitted work (a change, a deletion, a
    /// new file) are kept as they were, and pushing sends the agent's commit alone.
    #[tokio::test]
    async fn a_full_checkout_from_before_becomes_a_worktree_with_its_work() {
        let root = tempfile::tempdir().unwrap();
        let (bare, head) = remote(root.path());
        let host = LocalTransport::new("local");
        let checkout = pull_checkout(&bare, "pr-1", "refs/heads/feature");
        let workdir = root.path().join("work").display().to_string();
        let at = CheckoutAt::of(&checkout, &workdir);
        // The old layout: a repository of its own on `switchboard`, its start in
        // `refs/switchboard/base`.
        let co = Path::new(&at.dir);
        std::fs::create_dir_all(co).unwrap();
        git(co, &["init", "-q"]);
        let url = bare.display().to_string();
        git(
            co,
            &["fetch", "-q", &url, "+feature:refs/switchboard/fetched"],
        );
        git(
            co,
            &[
                "checkout",
                "-q",
                "-B",
                "switchboard",
                "refs/switchboard/fetched",
            ],
        );
        git(co, &["update-ref", "refs/switchboard/base", "HEAD"]);
        std::fs::write(co.join("b.txt"), "agent\n").unwrap();
        git(co, &["add", "."]);
        git(co, &["commit", "-q", "-m", "agent work"]);
        let agent = git(co, &["rev-parse", "HEAD"]);
        std::fs::write(co.join("b.txt"), "agent, more\n").unwrap();
        std::fs::remove_file(co.join("a.txt")).unwrap();
        std::fs::write(co.join("new.txt"), "new\n").unwrap();
        // What a migration interrupted before left beside it.
        let leftover = PathBuf::from(format!("{}.sb-new", at.dir));
        std::fs::create_dir_all(&leftover).unwrap();
        std::fs::write(leftover.join("half.txt"), "half\n").unwrap();

        let token = Secret::new("t0ken-not-in-files");
        let prepared = prepare(&host, &at, &checkout, &token).await.unwrap();
        assert_eq!(
            prepared,
            Prepared {
                head: agent.clone(),
                moved: false
            }
        );
        assert!(co.join(".git").is_file(), "now a worktree");
        assert_eq!(
            git(
                co,
                &["rev-parse", "--path-format=absolute", "--git-common-dir"]
            ),
            at.clone
        );
        assert_eq!(git(co, &["branch", "--show-current"]), "switchboard/pr-1");
        assert_eq!(
            git(co, &["status", "--porcelain"]),
            // (` D a.txt`, trimmed)
            "D a.txt\n M b.txt\n?? new.txt"
        );
        assert!(!leftover.exists());

        git(co, &["checkout", "-q", "--", "."]);
        std::fs::remove_file(co.join("new.txt")).unwrap();
        let target = PushTarget {
            url: url.clone(),
            branch: "feature".into(),
        };
        let pushed = push(&host, &at, &target, None, &token).await.unwrap();
        assert_eq!(pushed.commits.len(), 1, "{pushed:?}");
        assert_eq!(git(&bare, &["rev-parse", "feature"]), agent);
        assert_eq!(git(&bare, &["rev-parse", "feature~1"]), head);
        let moved = prepare(&host, &at, &checkout, &token).await.unwrap();
        assert_eq!((moved.moved, moved.head), (true, agent));
        assert_token_nowhere(root.path(), &token);
    }

    /// An issue's checkout: cut from the default branch while its branch does not exist, what
    /// the agent left uncommitted committed for the person who asked and pushed to the branch,
    /// and a fresh checkout (another host, or after a clean-up) resumes the pushed branch.
    #[tokio::test]
    async fn an_issue_branch_is_cut_then_resumed() {
        let root = tempfile::tempdir().unwrap();
        let (bare, _) = remote(root.path());
        let main = git(&bare, &["rev-parse", "main"]);
        let host = LocalTransport::new("local");
        let url = bare.display().to_string();
        let checkout = GitCheckout {
            clone_url: url.clone(),
            fetch_ref: "refs/heads/main".into(),
            base_ref: None,
            dir: "github/octo/app/issue-1".into(),
            credential: Credential::GitHubInstallation(1),
            push: Some(PushTarget {
                url: url.clone(),
                branch: "sb/issue-1".into(),
            }),
            resume_ref: Some("refs/heads/sb/issue-1".into()),
            pull_request: None,
        };
        let token = Secret::new("t0ken");
        let on_host =
            |name: &str| CheckoutAt::of(&checkout, &root.path().join(name).display().to_string());
        let one = on_host("one");
        let first = prepare(&host, &one, &checkout, &token).await.unwrap();
        assert_eq!(first.head, main, "no branch yet: the default branch");

        std::fs::write(Path::new(&one.dir).join("fix.txt"), "fixed\n").unwrap();
        let by = CommitAs {
            author_name: "alice".into(),
            author_email: "alice@github.invalid".into(),
            message: "Fix it".into(),
        };
        let target = checkout.push.as_ref().unwrap();
        let pushed = push(&host, &one, target, Some(&by), &token).await.unwrap();
        assert_eq!(
            (pushed.commits.len(), pushed.committed),
            (1, true),
            "{pushed:?}"
        );
        assert_eq!(git(&bare, &["rev-parse", "sb/issue-1"]), pushed.head);
        assert_eq!(
            git(
                &bare,
                &["log", "-1", "--format=%an <%ae>|%cn|%s", "sb/issue-1"]
            ),
            "alice <alice@github.invalid>|Switchboard|Fix it"
        );
        let again = push(&host, &one, target, Some(&by), &token).await.unwrap();
        assert_eq!(
            (again.head, again.commits.len(), again.committed),
            (pushed.head.clone(), 0, false)
        );

        let elsewhere = on_host("two");
        let resumed = prepare(&host, &elsewhere, &checkout, &token).await.unwrap();
        assert_eq!(resumed.head, pushed.head, "the branch is resumed");
        assert_eq!(
            std::fs::read_to_string(Path::new(&elsewhere.dir).join("fix.txt")).unwrap(),
            "fixed\n"
        );

        let unreachable = GitCheckout {
            clone_url: root.path().join("nowhere.git").display().to_string(),
            ..checkout.clone()
        };
        let third = on_host("three");
        let err = prepare(&host, &third, &unreachable, &token)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("fetching refs/heads/main failed"),
            "{err}"
        );
    }
}
