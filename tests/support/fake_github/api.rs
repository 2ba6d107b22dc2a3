//! The handle tests hold: set up accounts, repositories, commits, pull
//! requests and comments; build and deliver webhooks; wait for what the bot
//! does; inspect everything it called and pushed.
//!
//! Waiting never sleeps on a timer: every waiter registers for the fake's
//! change signal *before* looking at the state, then sleeps until the next
//! change (or its deadline), so no change between the look and the sleep can
//! be missed. A timeout panics with what the bot did post and which of its
//! calls failed, which is usually the whole diagnosis.
//!
//! Setup methods (`create_repo`, `commit`, `open_pr`, …) run `git` and
//! block for a few milliseconds; they are meant for a test's arrange step.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::config::FakeGitHubConfig;
use super::handlers::add_review_comment;
use super::json::PrStats;
use super::payloads::{self, CommentAction, IssueAction, PrAction};
use super::state::{IssueRec, ReviewAnchor, Shared, repo_key};
use super::types::{
    CallRecord, CommentKind, CommentState, Delivery, FakeCheckRun, FakeComment, FakeIssue, FakePr,
    FakeRepo, FakeReview, FakeUser, PrState, Push, ReviewState, UserKind, Violation,
};
use super::{checks, git, json, repos, server, webhook};

/// A running fake GitHub. Cheap to clone; the server stops (and its
/// repositories are deleted) when the last clone is dropped.
#[derive(Clone)]
pub struct FakeGitHub {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeGitHub {
    /// Binds `127.0.0.1:0`, generates the App key (unless configured) and
    /// starts serving.
    pub async fn start(config: FakeGitHubConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake GitHub: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fake GitHub: local address");
        let base_url = format!("http://{addr}");
        let shared = tokio::task::spawn_blocking(move || Arc::new(Shared::new(config, base_url)))
            .await
            .expect("fake GitHub: set up");
        let app = server::router(shared.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("fake GitHub: serve");
        });
        Self {
            inner: Arc::new(Inner {
                shared,
                addr,
                server,
            }),
        }
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// `http://127.0.0.1:PORT`: the bot's `github.api_url`. Git is served on
    /// the same origin (`/{owner}/{repo}.git`).
    pub fn api_url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    pub fn app_id(&self) -> u64 {
        self.shared().config.app_id
    }

    /// The App's private key, PKCS#1 PEM as GitHub hands it out.
    pub fn app_private_key_pem(&self) -> String {
        self.shared().key.pem.clone()
    }

    pub fn app_slug(&self) -> String {
        self.shared().config.app_slug.clone()
    }

    /// The App's bot account (`<slug>[bot]`, type Bot): the author of
    /// everything the bot posts with an installation token.
    pub fn app_user(&self) -> FakeUser {
        let login = self.shared().app_login();
        self.shared().lock().user_or_panic(&login)
    }

    pub fn webhook_secret(&self) -> String {
        self.shared().config.webhook_secret.clone()
    }

    pub fn installation_id(&self) -> u64 {
        self.shared().config.installation_id
    }

    // ---- Setup ------------------------------------------------------------

    /// Registers an account (or returns the existing one with that login).
    /// `dependabot[bot]`, `renovate[bot]` and `github-actions[bot]` get their
    /// real ids.
    pub fn user(&self, login: &str, kind: UserKind) -> FakeUser {
        self.shared().lock().add_user(login, kind)
    }

    /// A private repository owned by the user `owner` (registered if new),
    /// with one commit on `main` holding `files`.
    pub fn create_repo(&self, owner: &str, name: &str, files: &[(&str, &str)]) -> FakeRepo {
        repos::create_repo(self.shared(), owner, name, files)
    }

    /// Gives `user` a collaborator role: `admin`, `maintain`, `write`,
    /// `triage` or `read` (`none` removes it). The owner is always admin.
    pub fn set_permission(&self, repo: &FakeRepo, user: &FakeUser, role: &str) {
        assert!(
            ["admin", "maintain", "write", "triage", "read", "none"].contains(&role),
            "unknown role {role}"
        );
        let mut st = self.shared().lock();
        let r = st.repo_mut(&key(repo));
        let login = user.login.to_ascii_lowercase();
        if role == "none" {
            r.roles.remove(&login);
        } else {
            r.roles.insert(login, role.to_string());
        }
    }

    /// Commits `files` (`None` deletes the file) on `branch`, creating the
    /// branch from the default branch if needed; a pull request whose head
    /// is `branch` follows it. Returns the commit id.
    pub fn commit(
        &self,
        repo: &FakeRepo,
        branch: &str,
        files: &[(&str, Option<&str>)],
        message: &str,
        author: &FakeUser,
    ) -> String {
        repos::commit(self.shared(), repo, branch, files, message, author)
    }

    /// Opens a pull request from `head` into `base` (both branches of
    /// `repo`) and points `refs/pull/N/head` at its head.
    pub fn open_pr(
        &self,
        repo: &FakeRepo,
        head: &str,
        base: &str,
        title: &str,
        body: &str,
        author: &FakeUser,
    ) -> FakePr {
        repos::open_pr(self.shared(), repo, head, base, title, body, author)
    }

    /// Opens an issue.
    pub fn create_issue(
        &self,
        repo: &FakeRepo,
        title: &str,
        body: &str,
        author: &FakeUser,
    ) -> FakeIssue {
        let mut st = self.shared().lock();
        let at = st.tick();
        let id = st.next_issue_id();
        let r = st.repo_mut(&key(repo));
        let number = r.next_number;
        r.next_number += 1;
        r.issues.insert(
            number,
            IssueRec {
                id,
                number,
                title: title.to_string(),
                body: body.to_string(),
                author: author.login.clone(),
                state: "open",
                created_at: at,
                updated_at: at,
                labels: Vec::new(),
                assignees: Vec::new(),
                pr: None,
            },
        );
        FakeIssue {
            repo: repo.clone(),
            number,
        }
    }

    /// `by` adds `label` to the issue (which updates it); returns the `issues` `labeled` payload
    /// GitHub sends for it.
    pub fn label_issue(&self, issue: &FakeIssue, label: &str, by: &FakeUser) -> Value {
        self.change_issue(issue, by, IssueAction::Labeled(label.to_string()))
    }

    /// `by` assigns the issue to `assignee` (which updates it); returns the `issues` `assigned`
    /// payload GitHub sends for it.
    pub fn assign_issue(&self, issue: &FakeIssue, assignee: &FakeUser, by: &FakeUser) -> Value {
        self.change_issue(issue, by, IssueAction::Assigned(assignee.login.clone()))
    }

    fn change_issue(&self, issue: &FakeIssue, by: &FakeUser, action: IssueAction) -> Value {
        let key = key(&issue.repo);
        let mut st = self.shared().lock();
        let at = st.tick();
        let i = st
            .repo_mut(&key)
            .issues
            .get_mut(&issue.number)
            .unwrap_or_else(|| panic!("{key} has no issue #{}", issue.number));
        let (added, name) = match &action {
            IssueAction::Labeled(name) => (&mut i.labels, name),
            IssueAction::Assigned(login) => (&mut i.assignees, login),
        };
        if !added.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            added.push(name.clone());
        }
        i.updated_at = at;
        payloads::issues(self.shared(), &st, &key, issue.number, &action, &by.login)
    }

    /// `author` comments on issue or pull request `number`.
    pub fn comment(
        &self,
        repo: &FakeRepo,
        number: u64,
        author: &FakeUser,
        body: &str,
    ) -> FakeComment {
        let key = key(repo);
        let id = {
            let mut st = self.shared().lock();
            assert!(
                st.repo_mut(&key).issues.contains_key(&number),
                "{key} has no issue or pull request #{number}"
            );
            st.add_comment(&key, number, CommentKind::Issue, &author.login, body, None)
        };
        self.shared().notify_changed();
        FakeComment {
            id,
            repo: repo.clone(),
            number,
            kind: CommentKind::Issue,
        }
    }

    /// Its author edits a comment (issue or review comment); the content
    /// clock moves on, so the edit is later than everything before it.
    pub fn edit_comment(&self, comment: &FakeComment, body: &str) {
        self.shared().lock().edit_comment(comment.id, body);
        self.shared().notify_changed();
    }

    /// `author` comments on new-side `line` of `path` in the pull request's
    /// diff (GitHub refuses lines outside the diff; so does this, with a
    /// panic). Like on GitHub it comes with its own `COMMENTED` review.
    pub fn review_comment(
        &self,
        pr: &FakePr,
        author: &FakeUser,
        path: &str,
        line: u64,
        body: &str,
    ) -> FakeComment {
        let key = key(&pr.repo);
        let (dir, base, head) = self.pr_shas(pr);
        let diff = git::pr_diff(&dir, &base, &head);
        let (diff_hunk, position) = git::parse_diff(&diff)
            .into_iter()
            .find(|f| f.filename == path)
            .and_then(|f| f.patch)
            .and_then(|p| git::locate_line(&p, line))
            .unwrap_or_else(|| {
                panic!(
                    "line {line} of {path} is not part of the diff of #{}",
                    pr.number
                )
            });
        let anchor = ReviewAnchor {
            path: path.to_string(),
            line,
            diff_hunk,
            position,
            commit_id: head,
            review_id: 0,
            in_reply_to: None,
        };
        let id = add_review_comment(
            &mut self.shared().lock(),
            &key,
            pr.number,
            &author.login,
            body,
            anchor,
        );
        self.shared().notify_changed();
        FakeComment {
            id,
            repo: pr.repo.clone(),
            number: pr.number,
            kind: CommentKind::Review,
        }
    }

    /// `author` submits a review: `event` is `COMMENT`, `APPROVE` or
    /// `REQUEST_CHANGES`, as in the REST API.
    pub fn review(&self, pr: &FakePr, author: &FakeUser, body: &str, event: &str) -> FakeReview {
        let state = match event {
            "COMMENT" => "COMMENTED",
            "APPROVE" => "APPROVED",
            "REQUEST_CHANGES" => "CHANGES_REQUESTED",
            other => panic!("unknown review event {other}"),
        };
        let key = key(&pr.repo);
        let head = self.head_sha(pr);
        let id =
            self.shared()
                .lock()
                .add_review(&key, pr.number, &author.login, body, state, &head);
        self.shared().notify_changed();
        FakeReview {
            id,
            repo: pr.repo.clone(),
            number: pr.number,
        }
    }

    /// CI reports a check run on `git_ref` (a branch or a commit of
    /// `repo`): `status` `queued`, `in_progress`, `completed`, …; a
    /// completed run needs a `conclusion` (`success`, `failure`,
    /// `timed_out`, …), others none. Runs come from GitHub Actions, one
    /// suite per commit; a run of a name already run re-runs it.
    pub fn add_check_run(
        &self,
        repo: &FakeRepo,
        git_ref: &str,
        name: &str,
        status: &str,
        conclusion: Option<&str>,
    ) -> FakeCheckRun {
        checks::add_run(self.shared(), repo, git_ref, name, status, conclusion)
    }

    /// The CI writes its report on a run (`output`: title, summary, text; GitHub shows the
    /// text as the run's details, often the failing test's log).
    pub fn set_check_run_output(
        &self,
        run: &FakeCheckRun,
        title: Option<&str>,
        summary: Option<&str>,
        text: Option<&str>,
    ) {
        checks::report_output(self.shared(), run, [title, summary, text]);
    }

    /// A run that was queued or in progress ends with `conclusion`.
    pub fn complete_check_run(&self, run: &FakeCheckRun, conclusion: &str) {
        checks::complete_run(self.shared(), run, conclusion);
    }

    /// Ends every installation token's life now, as an hour passing would.
    pub fn expire_tokens(&self) {
        let (_, now) = self.shared().clock.now();
        for exp in self.shared().lock().tokens.values_mut() {
            *exp = now;
        }
    }

    // ---- Webhook payloads and deliveries -----------------------------------

    /// The JSON GitHub sends for an account (`sender`, `user`).
    pub fn user_json(&self, user: &FakeUser) -> Value {
        json::user(&self.api_url(), user)
    }

    /// `issue_comment` (`created`/`edited`) for an issue or pull request.
    pub fn payload_issue_comment(&self, comment: &FakeComment, action: CommentAction) -> Value {
        let st = self.shared().lock();
        let c = st.comments.get(&comment.id).expect("known comment");
        payloads::issue_comment(self.shared(), &st, c, action)
    }

    /// `pull_request_review_comment` (`created`/`edited`).
    pub fn payload_review_comment(&self, comment: &FakeComment, action: CommentAction) -> Value {
        let st = self.shared().lock();
        let c = st.comments.get(&comment.id).expect("known comment");
        payloads::review_comment(self.shared(), &st, c, action)
    }

    /// `pull_request_review` (`submitted`).
    pub fn payload_review(&self, review: &FakeReview) -> Value {
        let st = self.shared().lock();
        let rv = st.reviews.get(&review.id).expect("known review");
        payloads::review(self.shared(), &st, rv)
    }

    /// `pull_request` (`opened`, `reopened`, `synchronize`), sent by the
    /// PR's author, with the counts GitHub computes from git.
    pub fn payload_pull_request(&self, pr: &FakePr, action: PrAction) -> Value {
        let (dir, base, head) = self.pr_shas(pr);
        let files = git::parse_diff(&git::pr_diff(&dir, &base, &head));
        let commits = git::run(
            &dir,
            &["rev-list", "--count", &format!("{base}..{head}")],
            &[],
            b"",
        )
        .trim()
        .parse()
        .unwrap_or(0);
        let stats = PrStats { commits, files };
        let st = self.shared().lock();
        payloads::pull_request(
            self.shared(),
            &st,
            &key(&pr.repo),
            pr.number,
            &action,
            &stats,
        )
    }

    /// `check_run`: `created`, or `completed` once the run has ended.
    pub fn payload_check_run(&self, run: &FakeCheckRun) -> Value {
        payloads::check_run(self.shared(), &self.shared().lock(), run.id)
    }

    /// `check_suite` `completed` for the run's suite (every latest run of
    /// it must have completed), with the commit as git has it.
    pub fn payload_check_suite(&self, run: &FakeCheckRun) -> Value {
        let commit = checks::head_commit(self.shared(), run);
        payloads::check_suite(self.shared(), &self.shared().lock(), run.id, &commit)
    }

    /// Delivers to `url` what GitHub sends the App about the run now:
    /// `check_run` and, when the run's end completed its suite,
    /// `check_suite` `completed`. Returns the deliveries in order.
    pub async fn report_check_run(&self, url: &str, run: &FakeCheckRun) -> Vec<Delivery> {
        let mut sent = vec![
            self.deliver(url, "check_run", self.payload_check_run(run))
                .await,
        ];
        let completed = checks::suite_completed(&self.shared().lock(), run.id);
        if completed {
            let suite = self.payload_check_suite(run);
            sent.push(self.deliver(url, "check_suite", suite).await);
        }
        sent
    }

    /// `ping`, as sent when the App's webhook is set up.
    pub fn payload_ping(&self) -> Value {
        payloads::ping(self.shared(), &self.shared().lock())
    }

    /// POSTs `payload` to `url` as GitHub would: a fresh delivery id, the
    /// App's hook and installation target headers, both signatures.
    /// Returns when the receiver answered.
    pub async fn deliver(&self, url: &str, event: &str, payload: Value) -> Delivery {
        let body = Bytes::from(serde_json::to_vec(&payload).expect("JSON serializes"));
        let id = uuid::Uuid::new_v4().to_string();
        self.send_delivery(url, event, id, body).await
    }

    /// Delivers again with the same delivery id and body, like "Redeliver"
    /// on GitHub (signed anew, which gives the same signatures).
    pub async fn redeliver(&self, delivery: &Delivery) -> Delivery {
        self.send_delivery(
            &delivery.url,
            &delivery.event,
            delivery.id.clone(),
            delivery.body.clone(),
        )
        .await
    }

    /// Sends a delivery's exact signed body again under a fresh delivery id, as someone who
    /// captured it would (the delivery id is not covered by the signature).
    pub async fn replay_as_new(&self, delivery: &Delivery) -> Delivery {
        let id = uuid::Uuid::new_v4().to_string();
        self.send_delivery(&delivery.url, &delivery.event, id, delivery.body.clone())
            .await
    }

    async fn send_delivery(&self, url: &str, event: &str, id: String, body: Bytes) -> Delivery {
        let c = &self.shared().config;
        let headers =
            webhook::signed_headers(&c.webhook_secret, event, &id, c.hook_id, c.app_id, &body);
        let (status, response) = match webhook::post(url, &headers, &body).await {
            Ok(answer) => answer,
            Err(e) => (0, e),
        };
        let delivery = Delivery {
            id,
            event: event.to_string(),
            url: url.to_string(),
            body,
            status,
            response,
        };
        self.shared().lock().deliveries.push(delivery.clone());
        self.shared().notify_changed();
        delivery
    }

    /// POSTs exactly `headers` and `body` (forged, unsigned, replayed
    /// deliveries); returns the receiver's status (0: unreachable) and body.
    pub async fn deliver_raw(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> (u16, String) {
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        match webhook::post(url, &headers, &body.into()).await {
            Ok(answer) => answer,
            Err(e) => (0, e),
        }
    }

    /// Every delivery made with `deliver`/`redeliver`, oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared().lock().deliveries.clone()
    }

    /// The next issue comments the App creates, one per entry: `true`
    /// creates the comment, then answers HTTP 500 as if the answer were lost
    /// on the way (GitHub accepted it).
    pub fn fail_after_commenting(&self, pattern: &[bool]) {
        self.shared()
            .lock()
            .fail_after_commenting
            .extend(pattern.iter().copied());
    }

    /// From now on each pull request creation waits at the door until the test lets it in or
    /// refuses it (`release_pull_creations`).
    pub fn hold_pull_creations(&self) {
        self.shared().pull_gate.lock().unwrap().holding = true;
    }

    /// Pull request creations waiting at the door.
    pub fn held_pull_creations(&self) -> usize {
        self.shared().pull_gate.lock().unwrap().waiting.len()
    }

    /// Opens the door: the waiting creations go on (`let_in`) or are answered 502, as if they
    /// never reached GitHub; later ones are served at once.
    pub fn release_pull_creations(&self, let_in: bool) {
        let mut gate = self.shared().pull_gate.lock().unwrap();
        gate.holding = false;
        for waiting in gate.waiting.drain(..) {
            let _ = waiting.send(let_in);
        }
    }

    /// The next `n` pull request lists answer `[]`, as lists that ran just
    /// before another client's create landed would: a client that then
    /// creates meets GitHub's 422 `A pull request already exists`.
    pub fn lag_pull_lists(&self, n: u32) {
        self.shared().lock().lagging_pull_lists += n;
    }

    // ---- Inspection --------------------------------------------------------

    /// The conversation comments of issue or pull request `number`, oldest
    /// first, in their current state.
    pub fn comments(&self, repo: &FakeRepo, number: u64) -> Vec<CommentState> {
        self.comments_of_kind(repo, number, CommentKind::Issue)
    }

    /// The inline review comments of a pull request, oldest first.
    pub fn review_comments(&self, pr: &FakePr) -> Vec<CommentState> {
        self.comments_of_kind(&pr.repo, pr.number, CommentKind::Review)
    }

    fn comments_of_kind(
        &self,
        repo: &FakeRepo,
        number: u64,
        kind: CommentKind,
    ) -> Vec<CommentState> {
        let st = self.shared().lock();
        st.comments_of(&key(repo), number, kind)
            .into_iter()
            .map(|c| c.to_state())
            .collect()
    }

    /// One comment in its current state.
    pub fn comment_state(&self, comment: &FakeComment) -> CommentState {
        self.shared().lock().comments[&comment.id].to_state()
    }

    /// Reactions on a comment, oldest first: `(login, content)`.
    pub fn reactions(&self, comment_id: u64) -> Vec<(String, String)> {
        self.shared()
            .lock()
            .reactions
            .iter()
            .filter(|r| r.comment_id == comment_id)
            .map(|r| (r.user.clone(), r.content.clone()))
            .collect()
    }

    /// Reviews of a pull request, oldest first, including the `COMMENTED`
    /// reviews GitHub wraps single review comments and replies in.
    pub fn reviews(&self, pr: &FakePr) -> Vec<ReviewState> {
        let st = self.shared().lock();
        st.reviews_of(&key(&pr.repo), pr.number)
            .into_iter()
            .map(|r| r.to_state())
            .collect()
    }

    /// The pull requests of `repo`, oldest first, as they are now.
    pub fn pull_requests(&self, repo: &FakeRepo) -> Vec<PrState> {
        let st = self.shared().lock();
        let r = st.repo(&key(repo)).expect("known repository");
        r.issues
            .values()
            .filter_map(|i| {
                let p = i.pr.as_ref()?;
                Some(PrState {
                    number: i.number,
                    head_ref: p.head_ref.clone(),
                    base_ref: p.base_ref.clone(),
                    head_sha: p.head_sha.clone(),
                    title: i.title.clone(),
                    body: i.body.clone(),
                    author: i.author.clone(),
                    state: i.state.to_string(),
                    draft: p.draft,
                })
            })
            .collect()
    }

    /// Every installation token issued, oldest first (to grep logs, disks
    /// and git configs for them).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.shared().lock().issued.clone()
    }

    /// Ref updates made by `git push` over HTTP, in the order they landed.
    pub fn pushes(&self) -> Vec<Push> {
        self.shared().lock().pushes.clone()
    }

    /// Content-creating requests that came inside a secondary-limit window.
    pub fn violations(&self) -> Vec<Violation> {
        self.shared().lock().violations.clone()
    }

    /// Every request answered (REST and git), in the order answered.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.shared().lock().calls.clone()
    }

    /// The bare repository on disk.
    pub fn bare_repo_path(&self, repo: &FakeRepo) -> PathBuf {
        self.shared().lock().repo_mut(&key(repo)).git_dir.clone()
    }

    /// The pull request's head commit as GitHub shows it now.
    pub fn head_sha(&self, pr: &FakePr) -> String {
        let st = self.shared().lock();
        let r = st.repo(&key(&pr.repo)).expect("known repository");
        r.issues[&pr.number]
            .pr
            .as_ref()
            .expect("a pull request")
            .head_sha
            .clone()
    }

    /// A branch's commit, if it exists.
    pub fn branch_sha(&self, repo: &FakeRepo, branch: &str) -> Option<String> {
        self.shared()
            .lock()
            .repo(&key(repo))
            .and_then(|r| r.branches.get(branch).cloned())
    }

    fn pr_shas(&self, pr: &FakePr) -> (PathBuf, String, String) {
        let st = self.shared().lock();
        let r = st.repo(&key(&pr.repo)).expect("known repository");
        let p = r.issues[&pr.number].pr.as_ref().expect("a pull request");
        (r.git_dir.clone(), r.base_sha(p), p.head_sha.clone())
    }

    // ---- Waiting -----------------------------------------------------------

    /// Waits until `check` finds something, re-checking after every change
    /// to the fake. `None` after `timeout`.
    pub async fn wait_for<T>(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&Self) -> Option<T>,
    ) -> Option<T> {
        crate::support::waiting::until(&self.shared().changed, timeout, || check(self)).await
    }

    /// Waits until a conversation comment of `number` currently matches;
    /// returns the earliest such comment.
    pub async fn wait_for_comment(
        &self,
        repo: &FakeRepo,
        number: u64,
        predicate: impl Fn(&CommentState) -> bool,
        timeout: Duration,
    ) -> CommentState {
        let found = self
            .wait_for(timeout, |f| {
                f.comments(repo, number).into_iter().find(|c| predicate(c))
            })
            .await;
        found.unwrap_or_else(|| {
            panic!(
                "no comment on {}#{number} matched within {timeout:?}\n{}",
                repo.full_name(),
                self.describe(repo, number)
            )
        })
    }

    /// Waits until a review of the pull request currently matches.
    pub async fn wait_for_review(
        &self,
        pr: &FakePr,
        predicate: impl Fn(&ReviewState) -> bool,
        timeout: Duration,
    ) -> ReviewState {
        let found = self
            .wait_for(timeout, |f| {
                f.reviews(pr).into_iter().find(|r| predicate(r))
            })
            .await;
        found.unwrap_or_else(|| {
            panic!(
                "no review on {}#{} matched within {timeout:?}\n{}",
                pr.repo.full_name(),
                pr.number,
                self.describe(&pr.repo, pr.number)
            )
        })
    }

    /// Waits until `login` reacted to the comment with `content`.
    pub async fn wait_for_reaction(
        &self,
        comment: &FakeComment,
        login: &str,
        content: &str,
        timeout: Duration,
    ) {
        let found = self
            .wait_for(timeout, |f| {
                f.reactions(comment.id)
                    .iter()
                    .any(|(l, c)| l == login && c == content)
                    .then_some(())
            })
            .await;
        if found.is_none() {
            panic!(
                "no {content} reaction by {login} on comment {} within {timeout:?}; reactions: {:?}",
                comment.id,
                self.reactions(comment.id)
            );
        }
    }

    /// Waits for a push that moved `refname` (e.g. `refs/heads/feature`).
    pub async fn wait_for_push(&self, refname: &str, timeout: Duration) -> Push {
        let found = self
            .wait_for(timeout, |f| {
                f.pushes().into_iter().find(|p| p.refname == refname)
            })
            .await;
        found.unwrap_or_else(|| {
            panic!(
                "no push to {refname} within {timeout:?}; pushes: {:?}",
                self.pushes()
            )
        })
    }

    /// What is in a thread and which calls failed: the timeout diagnosis.
    fn describe(&self, repo: &FakeRepo, number: u64) -> String {
        let mut out = String::from("comments (oldest first):\n");
        for c in self.comments(repo, number) {
            let _ = writeln!(
                out,
                "  {} by {} ({} edits): {:?}",
                c.id,
                c.author,
                c.edits(),
                short(&c.body)
            );
        }
        let st = self.shared().lock();
        for r in st.reviews_of(&key(repo), number) {
            let _ = writeln!(
                out,
                "  review {} by {} {}: {:?}",
                r.id,
                r.author,
                r.state,
                short(r.body())
            );
        }
        out.push_str("failed calls:\n");
        for c in st.calls.iter().filter(|c| c.status >= 400) {
            let _ = writeln!(
                out,
                "  {} {} -> {} ({:?})",
                c.method, c.path, c.status, c.auth
            );
        }
        out
    }
}

fn key(repo: &FakeRepo) -> String {
    repo_key(&repo.owner, &repo.name)
}

fn short(text: &str) -> String {
    let mut s: String = text.chars().take(120).collect();
    if s.len() < text.len() {
        s.push('…');
    }
    s
}
