//! Everything the fake remembers, behind one mutex.
//!
//! One lock is deliberate: a rate-limit decision, the comment it lets through
//! and the call record change together, so a test that sees a comment also
//! sees the call that made it, and two concurrent posts cannot both slip
//! under the limit. The lock is never held across an `.await` or a `git`
//! process; waiters sleep on [`Shared::changed`] instead.
//!
//! Two clocks: the **real clock** (tokio's `Instant`, mapped to wall time)
//! for things the bot measures itself — token and JWT expiry, rate limits,
//! call records — and the **content clock** for what GitHub stamps on
//! content (`created_at`, `updated_at`, `submitted_at`, commit dates). The
//! content clock starts at the fake's start time (whole seconds) and every
//! write moves it exactly one second on, so "created or edited after the
//! trigger" is decided by the order of writes, never by scheduling luck.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use tempfile::TempDir;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::auth::AppKey;
use super::checks::{CheckRunRec, CheckSuiteRec};
use super::config::FakeGitHubConfig;
use super::rate_limit::{PrimaryWindow, SecondaryLimiter};
use super::types::{
    BodyVersion, CallRecord, CommentKind, CommentState, Delivery, FakeRepo, FakeUser, Push,
    ReviewState, UserKind, Violation,
};

/// Real time, mapped from tokio's clock (so a test that pauses tokio's
/// clock also moves token expiry and rate-limit windows).
#[derive(Debug, Clone, Copy)]
pub(super) struct Clock {
    start: Instant,
    start_system: SystemTime,
}

impl Clock {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            start_system: SystemTime::now(),
        }
    }

    pub fn now(&self) -> (Instant, SystemTime) {
        let now = Instant::now();
        (now, self.system_at(now))
    }

    pub fn system_at(&self, at: Instant) -> SystemTime {
        self.start_system + at.saturating_duration_since(self.start)
    }
}

/// What the server, the git backend and the test handle share.
pub(super) struct Shared {
    pub config: FakeGitHubConfig,
    pub key: AppKey,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// `GIT_PROJECT_ROOT`: repositories live at `<root>/<owner>/<name>.git`.
    pub root: PathBuf,
    /// Temporary index files of test commits.
    pub scratch: PathBuf,
    pub clock: Clock,
    state: Mutex<State>,
    /// Woken after anything a test may wait for changed.
    pub changed: Notify,
    /// Pull request creations a test holds at the door (`hold_pull_creations`).
    pub pull_gate: std::sync::Mutex<PullGate>,
    _dir: TempDir,
}

/// While `holding`, each `POST /pulls` waits here before it is served: its sender is told
/// `true` to go on, `false` to be answered 502 (as if GitHub never took it).
#[derive(Default)]
pub(super) struct PullGate {
    pub holding: bool,
    pub waiting: Vec<tokio::sync::oneshot::Sender<bool>>,
}

impl Shared {
    pub fn new(config: FakeGitHubConfig, base_url: String) -> Self {
        let key = match &config.app_private_key_pem {
            Some(pem) => AppKey::from_pem(pem.clone()),
            None => AppKey::generate(),
        };
        let dir = tempfile::Builder::new()
            .prefix("fake-github-")
            .tempdir()
            .expect("fake GitHub: temp dir");
        let root = dir.path().join("repos");
        let scratch = dir.path().join("scratch");
        std::fs::create_dir_all(&root).expect("fake GitHub: repos dir");
        std::fs::create_dir_all(&scratch).expect("fake GitHub: scratch dir");
        let clock = Clock::new();
        let mut state = State::new(&config, clock.start_system);
        let bot = format!("{}[bot]", config.app_slug);
        state.add_user(&bot, UserKind::Bot);
        Self {
            config,
            key,
            base_url,
            root,
            scratch,
            clock,
            state: Mutex::new(state),
            changed: Notify::new(),
            pull_gate: std::sync::Mutex::default(),
            _dir: dir,
        }
    }

    /// A panicking test thread must not wedge every later call, so poisoning
    /// is ignored: the state is plain data and stays consistent per call.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn notify_changed(&self) {
        self.changed.notify_waiters();
    }

    /// The App's bot account: `<slug>[bot]`.
    pub fn app_login(&self) -> String {
        format!("{}[bot]", self.config.app_slug)
    }
}

#[derive(Debug, Clone)]
pub(super) struct PrRec {
    /// The pull request's own id (not the issue's), as GitHub has two.
    pub id: u64,
    pub head_ref: String,
    pub base_ref: String,
    pub head_sha: String,
    pub draft: bool,
    pub maintainer_can_modify: bool,
}

#[derive(Debug, Clone)]
pub(super) struct IssueRec {
    pub id: u64,
    pub number: u64,
    pub title: String,
    pub body: String,
    pub author: String,
    pub state: &'static str,
    pub created_at: SystemTime,
    pub updated_at: SystemTime,
    /// Label names, in the order they were added.
    pub labels: Vec<String>,
    /// Assignees' logins, in the order they were assigned.
    pub assignees: Vec<String>,
    pub pr: Option<PrRec>,
}

#[derive(Debug)]
pub(super) struct RepoState {
    pub repo: FakeRepo,
    pub default_branch: String,
    pub private: bool,
    pub git_dir: PathBuf,
    /// Collaborator roles: `admin`, `maintain`, `write`, `triage`, `read`.
    pub roles: HashMap<String, String>,
    /// Branch tips as git has them, refreshed after every commit and push.
    pub branches: BTreeMap<String, String>,
    pub next_number: u64,
    pub issues: BTreeMap<u64, IssueRec>,
    pub created_at: SystemTime,
    pub pushed_at: SystemTime,
}

impl RepoState {
    /// What `/collaborators/{user}/permission` reports: the owner is admin.
    pub fn role_of(&self, login: &str) -> Option<&str> {
        if login.eq_ignore_ascii_case(&self.repo.owner) {
            return Some("admin");
        }
        self.roles
            .get(&login.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub fn base_sha(&self, pr: &PrRec) -> String {
        self.branches.get(&pr.base_ref).cloned().unwrap_or_default()
    }

    /// The open pull request from `head` into `base`, if there is one.
    pub fn open_pull(&self, head: &str, base: &str) -> Option<u64> {
        self.issues
            .values()
            .find(|i| {
                i.state == "open"
                    && i.pr
                        .as_ref()
                        .is_some_and(|p| p.head_ref == head && p.base_ref == base)
            })
            .map(|i| i.number)
    }
}

/// A pull request to open: branches of one repository (forks are not modelled).
#[derive(Debug, Clone, Copy)]
pub(super) struct NewPull<'a> {
    pub head: &'a str,
    pub base: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub author: &'a str,
    pub draft: bool,
}

/// Where a review comment sits in the diff.
#[derive(Debug, Clone)]
pub(super) struct ReviewAnchor {
    pub path: String,
    pub line: u64,
    pub diff_hunk: String,
    pub position: u64,
    pub commit_id: String,
    pub review_id: u64,
    pub in_reply_to: Option<u64>,
}

#[derive(Debug, Clone)]
pub(super) struct CommentRec {
    pub id: u64,
    /// Key of the repository in [`State::repos`].
    pub repo: String,
    pub number: u64,
    pub kind: CommentKind,
    pub author: String,
    pub versions: Vec<BodyVersion>,
    pub anchor: Option<ReviewAnchor>,
}

impl CommentRec {
    pub fn body(&self) -> &str {
        &self.versions.last().expect("a comment has a body").body
    }

    pub fn created_at(&self) -> SystemTime {
        self.versions[0].at
    }

    pub fn updated_at(&self) -> SystemTime {
        self.versions.last().expect("a comment has a body").at
    }

    pub fn to_state(&self) -> CommentState {
        CommentState {
            id: self.id,
            kind: self.kind,
            author: self.author.clone(),
            body: self.body().to_string(),
            versions: self.versions.clone(),
            created_at: self.created_at(),
            updated_at: self.updated_at(),
            path: self.anchor.as_ref().map(|a| a.path.clone()),
            line: self.anchor.as_ref().map(|a| a.line),
            in_reply_to_id: self.anchor.as_ref().and_then(|a| a.in_reply_to),
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct ReviewRec {
    pub id: u64,
    pub repo: String,
    pub number: u64,
    pub author: String,
    pub versions: Vec<BodyVersion>,
    /// REST spelling: `COMMENTED`, `APPROVED`, `CHANGES_REQUESTED`, `PENDING`.
    pub state: String,
    pub commit_id: String,
    pub submitted_at: Option<SystemTime>,
}

impl ReviewRec {
    pub fn body(&self) -> &str {
        &self.versions.last().expect("a review has a body").body
    }

    pub fn to_state(&self) -> ReviewState {
        ReviewState {
            id: self.id,
            author: self.author.clone(),
            body: self.body().to_string(),
            state: self.state.clone(),
            commit_id: self.commit_id.clone(),
            versions: self.versions.clone(),
            submitted_at: self.submitted_at,
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct ReactionRec {
    pub id: u64,
    pub comment_id: u64,
    pub user: String,
    pub content: String,
    pub created_at: SystemTime,
}

/// Which primary-limit bucket a request counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Bucket {
    Installation,
    App,
    Anonymous,
}

pub(super) struct State {
    /// By lower-cased login (GitHub logins are case-insensitive).
    pub users: BTreeMap<String, FakeUser>,
    next_user_id: u64,
    /// By lower-cased `owner/name`.
    pub repos: BTreeMap<String, RepoState>,
    next_repo_id: u64,
    next_issue_id: u64,
    pub comments: BTreeMap<u64, CommentRec>,
    next_comment_id: u64,
    pub reviews: BTreeMap<u64, ReviewRec>,
    next_review_id: u64,
    pub reactions: Vec<ReactionRec>,
    next_reaction_id: u64,
    /// Installation token → expiry (real time).
    pub tokens: HashMap<String, SystemTime>,
    /// Every token issued, oldest first.
    pub issued: Vec<String>,
    pub pushes: Vec<Push>,
    pub calls: Vec<CallRecord>,
    pub violations: Vec<Violation>,
    pub deliveries: Vec<Delivery>,
    pub limiter: SecondaryLimiter,
    pub primary: HashMap<Bucket, Option<PrimaryWindow>>,
    /// The content clock's last reading.
    content_clock: SystemTime,
    /// For the next issue comments the App creates, in order: `true` creates
    /// the comment, then answers HTTP 500 (GitHub accepted it, the answer was
    /// lost).
    pub fail_after_commenting: std::collections::VecDeque<bool>,
    /// How many of the next pull request lists answer as if none were
    /// open (lists that ran just before another client's create landed).
    pub lagging_pull_lists: u32,
    /// Check runs, oldest first (ids grow with them).
    pub check_runs: Vec<CheckRunRec>,
    next_check_run_id: u64,
    /// One per repository and commit: the suite of the CI app's runs on it.
    pub check_suites: Vec<CheckSuiteRec>,
    next_check_suite_id: u64,
}

/// Well-known bot accounts keep their real ids, so a bot that (wrongly)
/// matched on ids would be caught by the same fixtures as one matching logins.
const KNOWN_IDS: &[(&str, u64)] = &[
    ("dependabot[bot]", 49_699_333),
    ("renovate[bot]", 29_139_614),
    ("github-actions[bot]", 41_898_282),
];

impl State {
    fn new(config: &FakeGitHubConfig, start: SystemTime) -> Self {
        let whole = start
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| Duration::from_secs(d.as_secs()))
            .unwrap_or_default();
        Self {
            users: BTreeMap::new(),
            next_user_id: 1_000_001,
            repos: BTreeMap::new(),
            next_repo_id: 500_000_001,
            next_issue_id: 2_000_000_001,
            comments: BTreeMap::new(),
            next_comment_id: 1_500_000_001,
            reviews: BTreeMap::new(),
            next_review_id: 1_800_000_001,
            reactions: Vec::new(),
            next_reaction_id: 200_000_001,
            tokens: HashMap::new(),
            issued: Vec::new(),
            pushes: Vec::new(),
            calls: Vec::new(),
            violations: Vec::new(),
            deliveries: Vec::new(),
            limiter: SecondaryLimiter::new(config.content_per_minute, config.content_per_hour),
            primary: HashMap::new(),
            content_clock: SystemTime::UNIX_EPOCH + whole,
            fail_after_commenting: Default::default(),
            lagging_pull_lists: 0,
            check_runs: Vec::new(),
            next_check_run_id: 4_000_000_001,
            check_suites: Vec::new(),
            next_check_suite_id: 3_000_000_001,
        }
    }

    /// The content clock's next reading: one second after the previous one.
    pub fn tick(&mut self) -> SystemTime {
        self.content_clock += Duration::from_secs(1);
        self.content_clock
    }

    pub fn add_user(&mut self, login: &str, kind: UserKind) -> FakeUser {
        let key = login.to_ascii_lowercase();
        if let Some(u) = self.users.get(&key) {
            assert_eq!(
                u.kind, kind,
                "user {login} already exists as a {:?}",
                u.kind
            );
            return u.clone();
        }
        let id = match KNOWN_IDS.iter().find(|(l, _)| *l == key) {
            Some((_, id)) => *id,
            None => {
                self.next_user_id += 1;
                self.next_user_id - 1
            }
        };
        let user = FakeUser {
            login: login.to_string(),
            id,
            kind,
        };
        self.users.insert(key, user.clone());
        user
    }

    pub fn user(&self, login: &str) -> Option<&FakeUser> {
        self.users.get(&login.to_ascii_lowercase())
    }

    pub fn user_or_panic(&self, login: &str) -> FakeUser {
        self.user(login)
            .cloned()
            .unwrap_or_else(|| panic!("user {login} is not known to the fake"))
    }

    pub fn next_repo_id(&mut self) -> u64 {
        self.next_repo_id += 1;
        self.next_repo_id - 1
    }

    pub fn next_issue_id(&mut self) -> u64 {
        self.next_issue_id += 1;
        self.next_issue_id - 1
    }

    pub fn next_comment_id(&mut self) -> u64 {
        self.next_comment_id += 1;
        self.next_comment_id - 1
    }

    pub fn next_review_id(&mut self) -> u64 {
        self.next_review_id += 1;
        self.next_review_id - 1
    }

    pub fn next_reaction_id(&mut self) -> u64 {
        self.next_reaction_id += 1;
        self.next_reaction_id - 1
    }

    pub fn next_check_run_id(&mut self) -> u64 {
        self.next_check_run_id += 1;
        self.next_check_run_id - 1
    }

    pub fn next_check_suite_id(&mut self) -> u64 {
        self.next_check_suite_id += 1;
        self.next_check_suite_id - 1
    }

    /// Opens a pull request whose branches the caller checked; returns its
    /// number. `refs/pull/N/head` is the caller's to write, outside the lock.
    pub fn add_pull(&mut self, key: &str, pull: NewPull<'_>) -> u64 {
        let at = self.tick();
        let issue_id = self.next_issue_id();
        let pr_id = self.next_issue_id();
        let r = self.repo_mut(key);
        let head_sha = r.branches[pull.head].clone();
        let number = r.next_number;
        r.next_number += 1;
        r.issues.insert(
            number,
            IssueRec {
                id: issue_id,
                number,
                title: pull.title.to_string(),
                body: pull.body.to_string(),
                author: pull.author.to_string(),
                state: "open",
                created_at: at,
                updated_at: at,
                labels: Vec::new(),
                assignees: Vec::new(),
                pr: Some(PrRec {
                    id: pr_id,
                    head_ref: pull.head.to_string(),
                    base_ref: pull.base.to_string(),
                    head_sha,
                    draft: pull.draft,
                    maintainer_can_modify: false,
                }),
            },
        );
        number
    }

    pub fn repo(&self, key: &str) -> Option<&RepoState> {
        self.repos.get(key)
    }

    pub fn repo_mut(&mut self, key: &str) -> &mut RepoState {
        self.repos
            .get_mut(key)
            .unwrap_or_else(|| panic!("repository {key} is not known to the fake"))
    }

    /// Posts a comment, stamping it on the content clock.
    pub fn add_comment(
        &mut self,
        repo: &str,
        number: u64,
        kind: CommentKind,
        author: &str,
        body: &str,
        anchor: Option<ReviewAnchor>,
    ) -> u64 {
        let at = self.tick();
        let id = self.next_comment_id();
        self.comments.insert(
            id,
            CommentRec {
                id,
                repo: repo.to_string(),
                number,
                kind,
                author: author.to_string(),
                versions: vec![BodyVersion {
                    body: body.to_string(),
                    at,
                }],
                anchor,
            },
        );
        if let Some(issue) = self.repo_mut(repo).issues.get_mut(&number) {
            issue.updated_at = at;
        }
        id
    }

    pub fn edit_comment(&mut self, id: u64, body: &str) {
        let at = self.tick();
        let c = self
            .comments
            .get_mut(&id)
            .unwrap_or_else(|| panic!("comment {id} is not known to the fake"));
        c.versions.push(BodyVersion {
            body: body.to_string(),
            at,
        });
    }

    /// Submits (or, with `state` `PENDING`, drafts) a review.
    pub fn add_review(
        &mut self,
        repo: &str,
        number: u64,
        author: &str,
        body: &str,
        state: &str,
        commit_id: &str,
    ) -> u64 {
        let at = self.tick();
        let id = self.next_review_id();
        self.reviews.insert(
            id,
            ReviewRec {
                id,
                repo: repo.to_string(),
                number,
                author: author.to_string(),
                versions: vec![BodyVersion {
                    body: body.to_string(),
                    at,
                }],
                state: state.to_string(),
                commit_id: commit_id.to_string(),
                submitted_at: (state != "PENDING").then_some(at),
            },
        );
        id
    }

    /// Issue comments of one issue or pull request, oldest first.
    pub fn comments_of(&self, repo: &str, number: u64, kind: CommentKind) -> Vec<&CommentRec> {
        self.comments
            .values()
            .filter(|c| c.repo == repo && c.number == number && c.kind == kind)
            .collect()
    }

    pub fn reviews_of(&self, repo: &str, number: u64) -> Vec<&ReviewRec> {
        self.reviews
            .values()
            .filter(|r| r.repo == repo && r.number == number)
            .collect()
    }

    /// The live installation token's expiry, if `token` is one.
    pub fn token_live(&self, token: &str, now: SystemTime) -> bool {
        self.tokens.get(token).is_some_and(|exp| *exp > now)
    }
}

/// The key of a repository in [`State::repos`].
pub(super) fn repo_key(owner: &str, name: &str) -> String {
    format!("{owner}/{name}").to_ascii_lowercase()
}
