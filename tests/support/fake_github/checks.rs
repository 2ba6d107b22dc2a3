//! Check runs and check suites, as CI reports them on a commit: what tests
//! add (`FakeGitHub::add_check_run`), what `GET …/commits/{ref}/check-runs`
//! answers, and the objects the `check_run` and `check_suite` webhooks carry.
//!
//! Every run belongs to GitHub Actions (the CI app, with its real id and
//! slug), and all of a commit's runs to one suite, as when one workflow
//! runs on a push. The suite is `completed` when the latest run of each
//! name is, and its conclusion is the most severe of theirs, in GitHub's
//! order (`action_required` over `cancelled` over `timed_out` over
//! `failure` … over `success`). Listing defaults to `filter=latest` like
//! GitHub: a re-run of a name hides the run it re-ran.

use std::collections::BTreeMap;
use std::time::SystemTime;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::auth::rfc3339;
use super::git;
use super::handlers::Ctx;
use super::json::{self, DOCS};
use super::reply::{self, Reply};
use super::state::{RepoState, Shared, State, repo_key};
use super::types::{FakeCheckRun, FakeRepo};

/// GitHub Actions, the app the fake's check runs come from.
const CI_APP_ID: u64 = 15_368;
const CI_APP_SLUG: &str = "github-actions";

const STATUSES: &[&str] = &[
    "queued",
    "in_progress",
    "completed",
    "waiting",
    "requested",
    "pending",
];

/// Conclusions, most severe first: a suite concludes with the first of
/// these any of its runs has.
const CONCLUSIONS: &[&str] = &[
    "action_required",
    "cancelled",
    "timed_out",
    "startup_failure",
    "failure",
    "stale",
    "neutral",
    "skipped",
    "success",
];

#[derive(Debug, Clone)]
pub(super) struct CheckRunRec {
    pub id: u64,
    /// Key of the repository in `State::repos`.
    pub repo: String,
    pub suite_id: u64,
    pub head_sha: String,
    pub name: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub started_at: SystemTime,
    pub completed_at: Option<SystemTime>,
    /// What the CI reported: `output.title`, `summary`, `text` (`null` until set).
    pub output: [Option<String>; 3],
}

#[derive(Debug, Clone)]
pub(super) struct CheckSuiteRec {
    pub id: u64,
    pub repo: String,
    pub head_sha: String,
    /// The branch the commit was on when its checks started.
    pub head_branch: Option<String>,
    /// The branch's commit before the push that brought `head_sha`, if a
    /// push did.
    pub before: Option<String>,
    /// Who pushed the commit: the App's bot when it came by a push with an
    /// installation token, else the repository's owner.
    pub sender: String,
    pub created_at: SystemTime,
    pub updated_at: SystemTime,
}

/// The suite's state: `(status, conclusion)`.
fn rollup(st: &State, suite: &CheckSuiteRec) -> (&'static str, Option<&'static str>) {
    let runs = latest(runs_of_suite(st, suite.id));
    if runs.iter().all(|r| r.status == "completed") {
        let worst = CONCLUSIONS
            .iter()
            .find(|c| runs.iter().any(|r| r.conclusion.as_deref() == Some(**c)));
        return ("completed", worst.copied());
    }
    if runs.iter().all(|r| r.status == "queued") {
        ("queued", None)
    } else {
        ("in_progress", None)
    }
}

fn runs_of_suite(st: &State, suite: u64) -> Vec<&CheckRunRec> {
    st.check_runs
        .iter()
        .filter(|r| r.suite_id == suite)
        .collect()
}

/// The newest run of each name (`runs` are oldest first), oldest first.
fn latest(runs: Vec<&CheckRunRec>) -> Vec<&CheckRunRec> {
    let mut newest: BTreeMap<&str, &CheckRunRec> = BTreeMap::new();
    for run in runs {
        newest.insert(&run.name, run);
    }
    let mut out: Vec<&CheckRunRec> = newest.into_values().collect();
    out.sort_by_key(|r| r.id);
    out
}

/// Whether every latest run of the run's suite has completed.
pub(super) fn suite_completed(st: &State, run_id: u64) -> bool {
    let run = run_rec(st, run_id);
    let suite = suite_rec(st, run.suite_id);
    rollup(st, suite).0 == "completed"
}

pub(super) fn run_rec(st: &State, id: u64) -> &CheckRunRec {
    st.check_runs
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("check run {id} is not known to the fake"))
}

pub(super) fn suite_rec(st: &State, id: u64) -> &CheckSuiteRec {
    st.check_suites
        .iter()
        .find(|s| s.id == id)
        .expect("a run's suite exists")
}

fn check_status(status: &str, conclusion: Option<&str>) {
    assert!(STATUSES.contains(&status), "unknown check status {status}");
    match conclusion {
        Some(c) => {
            assert!(CONCLUSIONS.contains(&c), "unknown check conclusion {c}");
            assert_eq!(status, "completed", "only a completed run has a conclusion");
        }
        None => assert_ne!(status, "completed", "a completed run needs a conclusion"),
    }
}

/// Adds a run on `git_ref` (a branch or a commit of `repo`), in the
/// commit's suite (created with the first run).
pub(super) fn add_run(
    sh: &Shared,
    repo: &FakeRepo,
    git_ref: &str,
    name: &str,
    status: &str,
    conclusion: Option<&str>,
) -> FakeCheckRun {
    check_status(status, conclusion);
    let key = repo_key(&repo.owner, &repo.name);
    let (dir, branch_tip) = {
        let st = sh.lock();
        let r = st
            .repo(&key)
            .unwrap_or_else(|| panic!("unknown repository {key}"));
        (r.git_dir.clone(), r.branches.get(git_ref).cloned())
    };
    let head_sha = branch_tip
        .or_else(|| git::resolve(&dir, git_ref))
        .unwrap_or_else(|| panic!("{key} has no branch or commit {git_ref}"));
    let mut st = sh.lock();
    let at = st.tick();
    let existing = st
        .check_suites
        .iter()
        .find(|s| s.repo == key && s.head_sha == head_sha)
        .map(|s| s.id);
    let suite_id = match existing {
        Some(id) => id,
        None => {
            let id = st.next_check_suite_id();
            let suite = new_suite(sh, &st, &key, git_ref, &head_sha, at);
            st.check_suites.push(CheckSuiteRec { id, ..suite });
            id
        }
    };
    let id = st.next_check_run_id();
    st.check_runs.push(CheckRunRec {
        id,
        repo: key.clone(),
        suite_id,
        head_sha: head_sha.clone(),
        name: name.to_string(),
        status: status.to_string(),
        conclusion: conclusion.map(str::to_string),
        started_at: at,
        completed_at: conclusion.map(|_| at),
        output: [None, None, None],
    });
    touch_suite(&mut st, suite_id, at);
    drop(st);
    sh.notify_changed();
    FakeCheckRun {
        id,
        repo: repo.clone(),
        head_sha,
        name: name.to_string(),
    }
}

/// The suite of a commit's first run: its branch, the push that brought
/// it, who pushed.
fn new_suite(
    sh: &Shared,
    st: &State,
    key: &str,
    git_ref: &str,
    head_sha: &str,
    at: SystemTime,
) -> CheckSuiteRec {
    let r = &st.repos[key];
    let head_branch = if r.branches.contains_key(git_ref) {
        Some(git_ref.to_string())
    } else {
        r.branches
            .iter()
            .find(|(_, tip)| *tip == head_sha)
            .map(|(name, _)| name.clone())
    };
    // A push record names the repository `owner/name`.
    let push = st
        .pushes
        .iter()
        .rev()
        .find(|p| p.new == head_sha && p.repo.eq_ignore_ascii_case(key));
    CheckSuiteRec {
        id: 0,
        repo: key.to_string(),
        head_sha: head_sha.to_string(),
        head_branch,
        before: push.map(|p| p.old.clone()),
        sender: match push {
            Some(_) => sh.app_login(),
            None => r.repo.owner.clone(),
        },
        created_at: at,
        updated_at: at,
    }
}

fn touch_suite(st: &mut State, suite_id: u64, at: SystemTime) {
    if let Some(suite) = st.check_suites.iter_mut().find(|s| s.id == suite_id) {
        suite.updated_at = at;
    }
}

/// The CI reports on a run: its `output`'s title, summary and text.
pub(super) fn report_output(sh: &Shared, run: &FakeCheckRun, output: [Option<&str>; 3]) {
    let mut st = sh.lock();
    let at = st.tick();
    let rec = st
        .check_runs
        .iter_mut()
        .find(|r| r.id == run.id)
        .unwrap_or_else(|| panic!("check run {} is not known to the fake", run.id));
    rec.output = output.map(|part| part.map(str::to_string));
    let suite_id = rec.suite_id;
    touch_suite(&mut st, suite_id, at);
    drop(st);
    sh.notify_changed();
}

/// A run ends with `conclusion`.
pub(super) fn complete_run(sh: &Shared, run: &FakeCheckRun, conclusion: &str) {
    check_status("completed", Some(conclusion));
    let mut st = sh.lock();
    let at = st.tick();
    let rec = st
        .check_runs
        .iter_mut()
        .find(|r| r.id == run.id)
        .unwrap_or_else(|| panic!("check run {} is not known to the fake", run.id));
    rec.status = "completed".to_string();
    rec.conclusion = Some(conclusion.to_string());
    rec.completed_at = Some(at);
    let suite_id = rec.suite_id;
    touch_suite(&mut st, suite_id, at);
    drop(st);
    sh.notify_changed();
}

// ---- JSON --------------------------------------------------------------

fn ci_app(base: &str) -> Value {
    json!({
        "id": CI_APP_ID,
        "slug": CI_APP_SLUG,
        "node_id": json::node_id("App", CI_APP_ID),
        "owner": {
            "login": "github",
            "id": 9_919,
            "node_id": json::node_id("Organization", 9_919),
            "avatar_url": "https://avatars.githubusercontent.com/u/9919?v=4",
            "gravatar_id": "",
            "url": format!("{base}/users/github"),
            "html_url": format!("{base}/github"),
            "type": "Organization",
            "site_admin": false,
        },
        "name": "GitHub Actions",
        "description": "Automate your workflow from idea to production",
        "external_url": "https://help.github.com/en/actions",
        "html_url": format!("{base}/apps/{CI_APP_SLUG}"),
        "created_at": "2018-07-30T09:30:17Z",
        "updated_at": "2019-12-10T19:04:12Z",
        "permissions": {"checks": "write", "contents": "write", "metadata": "read"},
        "events": ["check_run", "check_suite", "push", "pull_request"],
    })
}

/// The open pull requests a suite belongs to: same head branch and commit.
fn pull_requests(base: &str, r: &RepoState, suite: &CheckSuiteRec) -> Value {
    let repo_api = json::repo_api_url(base, r);
    let repo_ref = json!({"id": r.repo.id, "url": repo_api, "name": r.repo.name});
    let prs: Vec<Value> = r
        .issues
        .values()
        .filter(|i| i.state == "open")
        .filter_map(|i| i.pr.as_ref().map(|p| (i.number, p)))
        .filter(|(_, p)| {
            suite.head_branch.as_deref() == Some(&p.head_ref) && p.head_sha == suite.head_sha
        })
        .map(|(number, p)| {
            json!({
                "url": format!("{repo_api}/pulls/{number}"),
                "id": p.id,
                "number": number,
                "head": {"ref": p.head_ref, "sha": p.head_sha, "repo": repo_ref},
                "base": {"ref": p.base_ref, "sha": r.base_sha(p), "repo": repo_ref},
            })
        })
        .collect();
    Value::Array(prs)
}

/// A check suite, as the `check_run` webhook embeds it; the `check_suite`
/// webhook adds [`check_suite_event_fields`].
pub(super) fn check_suite(base: &str, st: &State, suite: &CheckSuiteRec) -> Value {
    let r = &st.repos[&suite.repo];
    let (status, conclusion) = rollup(st, suite);
    json!({
        "id": suite.id,
        "node_id": json::node_id("CheckSuite", suite.id),
        "head_branch": suite.head_branch,
        "head_sha": suite.head_sha,
        "status": status,
        "conclusion": conclusion,
        "url": format!("{}/check-suites/{}", json::repo_api_url(base, r), suite.id),
        "before": suite.before,
        "after": suite.head_sha,
        "pull_requests": pull_requests(base, r, suite),
        "app": ci_app(base),
        "created_at": rfc3339(suite.created_at),
        "updated_at": rfc3339(suite.updated_at),
    })
}

/// What git knows of a suite's commit, for `check_suite.head_commit`.
#[derive(Debug, Clone)]
pub(super) struct HeadCommit {
    pub tree_id: String,
    pub message: String,
    pub timestamp: String,
    pub author: (String, String),
    pub committer: (String, String),
}

/// Reads `head_commit` of a suite from git (before the state lock).
pub(super) fn head_commit(sh: &Shared, run: &FakeCheckRun) -> HeadCommit {
    let dir = {
        let st = sh.lock();
        st.repo(&repo_key(&run.repo.owner, &run.repo.name))
            .expect("known repository")
            .git_dir
            .clone()
    };
    let out = git::run(
        &dir,
        &[
            "log",
            "-1",
            "--format=%T%x00%cI%x00%an%x00%ae%x00%cn%x00%ce%x00%B",
            &run.head_sha,
        ],
        &[],
        b"",
    );
    let f: Vec<&str> = out.splitn(7, '\0').collect();
    let field = |i: usize| f.get(i).copied().unwrap_or_default().to_string();
    HeadCommit {
        tree_id: field(0),
        timestamp: field(1),
        author: (field(2), field(3)),
        committer: (field(4), field(5)),
        message: field(6).trim_end().to_string(),
    }
}

/// The fields the `check_suite` webhook's suite has beyond the embedded one.
pub(super) fn check_suite_event_fields(
    base: &str,
    st: &State,
    suite: &CheckSuiteRec,
    commit: &HeadCommit,
) -> Value {
    let r = &st.repos[&suite.repo];
    let person = |(name, email): &(String, String)| json!({"name": name, "email": email});
    json!({
        "latest_check_runs_count": latest(runs_of_suite(st, suite.id)).len(),
        "check_runs_url": format!(
            "{}/check-suites/{}/check-runs",
            json::repo_api_url(base, r),
            suite.id
        ),
        "rerequestable": true,
        "runs_rerequestable": true,
        "head_commit": {
            "id": suite.head_sha,
            "tree_id": commit.tree_id,
            "message": commit.message,
            "timestamp": commit.timestamp,
            "author": person(&commit.author),
            "committer": person(&commit.committer),
        },
    })
}

/// A check run as the REST API lists it (`check_suite` only by id; the
/// `check_run` webhook embeds the whole suite).
pub(super) fn check_run(base: &str, st: &State, run: &CheckRunRec) -> Value {
    let r = &st.repos[&run.repo];
    let suite = suite_rec(st, run.suite_id);
    let api = format!("{}/check-runs/{}", json::repo_api_url(base, r), run.id);
    let html = format!("{base}/{}/{}/runs/{}", r.repo.owner, r.repo.name, run.id);
    json!({
        "id": run.id,
        "head_sha": run.head_sha,
        "node_id": json::node_id("CheckRun", run.id),
        "external_id": "",
        "url": api,
        "html_url": html,
        "details_url": html,
        "status": run.status,
        "conclusion": run.conclusion,
        "started_at": rfc3339(run.started_at),
        "completed_at": run.completed_at.map(rfc3339),
        "output": {
            "title": run.output[0],
            "summary": run.output[1],
            "text": run.output[2],
            "annotations_count": 0,
            "annotations_url": format!("{api}/annotations"),
        },
        "name": run.name,
        "check_suite": {"id": suite.id},
        "app": ci_app(base),
        "pull_requests": pull_requests(base, r, suite),
    })
}

// ---- REST --------------------------------------------------------------

/// `GET /repos/{o}/{r}/commits/{ref}/check-runs`: `ref` is a commit, a
/// branch or `heads/<branch>`; `check_name`, `status`, `filter`
/// (`latest`, the default, or `all`) and pages as on GitHub.
pub(super) fn list(cx: &mut Ctx<'_>, key: &str, git_ref: &str) -> Reply {
    let r = &cx.st.repos[key];
    let branch = git_ref.strip_prefix("heads/").unwrap_or(git_ref);
    let sha = match r.branches.get(branch) {
        Some(tip) => tip.clone(),
        None if is_sha(git_ref) => git_ref.to_ascii_lowercase(),
        None => {
            let message = format!("No commit found for SHA: {git_ref}");
            return Reply::error(StatusCode::UNPROCESSABLE_ENTITY, &message, DOCS);
        }
    };
    let param = |name: &str| {
        cx.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let runs: Vec<&CheckRunRec> = cx
        .st
        .check_runs
        .iter()
        .filter(|run| run.repo == key && run.head_sha == sha)
        .collect();
    let mut runs = match param("filter") {
        Some("all") => runs,
        _ => latest(runs),
    };
    runs.retain(|run| param("check_name").is_none_or(|n| n == run.name));
    runs.retain(|run| param("status").is_none_or(|s| s == run.status));
    // Newest first, as GitHub lists them.
    runs.reverse();
    let total = runs.len();
    let items: Vec<Value> = runs
        .into_iter()
        .map(|run| check_run(&cx.sh.base_url, cx.st, run))
        .collect();
    let (page, link) = reply::page(items, &cx.sh.base_url, cx.path, cx.query);
    Reply::ok(json!({"total_count": total, "check_runs": page})).with_link(link)
}

/// A full commit id (GitHub also takes abbreviated ones; the fake does
/// not).
fn is_sha(s: &str) -> bool {
    s.len() == 40 && s.chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_full_commit_ids_are_shas() {
        assert!(is_sha(&"a".repeat(40)));
        assert!(!is_sha(&"a".repeat(39)));
        assert!(!is_sha(&"g".repeat(40)));
        assert!(!is_sha("main"));
    }
}
