//! What each REST endpoint does to the state. Every handler runs inside the
//! state lock, after authentication and the rate-limit decision, and
//! returns the full answer; git work (diffs) was done before the lock was
//! taken and arrives in [`Prefetched`].

use std::time::SystemTime;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::auth::{self, rfc3339};
use super::git::{self, FileDiff};
use super::json::{self, AppInfo, PrStats};
use super::reply::{self, Reply};
use super::routes::{Op, RepoPath};
use super::state::{IssueRec, RepoState, ReviewAnchor, Shared, State, repo_key};
use super::types::CommentKind;
use super::{checks, pulls};

/// Reactions GitHub accepts.
const REACTIONS: &[&str] = &[
    "+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes",
];

/// Git facts about one pull request, computed before the lock.
#[derive(Debug, Clone)]
pub(super) struct Prefetched {
    pub diff: String,
    pub files: Vec<FileDiff>,
    pub commits: u64,
    pub head_sha: String,
}

pub(super) struct Ctx<'a> {
    pub sh: &'a Shared,
    pub st: &'a mut State,
    pub repo: Option<&'a RepoPath>,
    pub path: &'a str,
    pub query: &'a [(String, String)],
    pub input: &'a Value,
    pub accept: &'a str,
    pub prefetched: Option<&'a Prefetched>,
    /// Real time of the request.
    pub now: SystemTime,
}

impl Ctx<'_> {
    fn base(&self) -> &str {
        &self.sh.base_url
    }

    fn app(&self) -> AppInfo {
        AppInfo {
            id: self.sh.config.app_id,
            slug: self.sh.config.app_slug.clone(),
            bot_login: self.sh.app_login(),
        }
    }

    fn repo_key(&self) -> Option<String> {
        let r = self.repo?;
        let key = repo_key(&r.owner, &r.name);
        self.st.repos.contains_key(&key).then_some(key)
    }
}

pub(super) fn execute(cx: &mut Ctx<'_>, op: &Op) -> Reply {
    match op {
        Op::GetApp => get_app(cx),
        Op::CreateAccessToken { installation } => create_access_token(cx, installation),
        Op::GetRepoInstallation => with_repo(cx, get_repo_installation),
        Op::GetRepo => with_repo(cx, |cx, key| {
            let r = &cx.st.repos[key];
            Reply::ok(json::repository(cx.base(), cx.st, r))
        }),
        Op::GetPermission { user } => with_repo(cx, |cx, key| get_permission(cx, key, user)),
        Op::GetIssue { number } => with_repo(cx, |cx, key| get_issue(cx, key, *number)),
        Op::ListIssueComments { number } => {
            with_repo(cx, |cx, key| list_issue_comments(cx, key, *number))
        }
        Op::CreateIssueComment { number } => {
            with_repo(cx, |cx, key| create_issue_comment(cx, key, *number))
        }
        Op::GetIssueComment { id } => with_repo(cx, |cx, key| {
            get_comment(cx, key, *id, CommentKind::Issue, None)
        }),
        Op::EditIssueComment { id } => {
            with_repo(cx, |cx, key| edit_comment(cx, key, *id, CommentKind::Issue))
        }
        Op::ReactToIssueComment { id } => {
            with_repo(cx, |cx, key| react(cx, key, *id, CommentKind::Issue))
        }
        Op::ListPulls => with_repo(cx, pulls::list),
        Op::CreatePull => with_repo(cx, pulls::create),
        Op::GetPull { number } => with_repo(cx, |cx, key| get_pull(cx, key, *number)),
        Op::ListPullFiles { number } => with_repo(cx, |cx, key| list_files(cx, key, *number)),
        Op::ListReviewComments { number } => {
            with_repo(cx, |cx, key| list_review_comments(cx, key, *number))
        }
        Op::ReplyToReviewComment { number, id } => {
            with_repo(cx, |cx, key| reply_to_review_comment(cx, key, *number, *id))
        }
        Op::GetReviewComment { id } => with_repo(cx, |cx, key| {
            get_comment(cx, key, *id, CommentKind::Review, None)
        }),
        Op::EditReviewComment { id } => with_repo(cx, |cx, key| {
            edit_comment(cx, key, *id, CommentKind::Review)
        }),
        Op::ReactToReviewComment { id } => {
            with_repo(cx, |cx, key| react(cx, key, *id, CommentKind::Review))
        }
        Op::ListReviews { number } => with_repo(cx, |cx, key| list_reviews(cx, key, *number)),
        Op::CreateReview { number } => with_repo(cx, |cx, key| create_review(cx, key, *number)),
        Op::GetReview { number, id } => {
            with_repo(cx, |cx, key| match review_of(cx.st, key, *number, *id) {
                Some(rv) => Reply::ok(json::review(cx.base(), cx.st, &cx.st.repos[key], rv)),
                None => Reply::not_found(),
            })
        }
        Op::UpdateReview { number, id } => {
            with_repo(cx, |cx, key| update_review(cx, key, *number, *id))
        }
        Op::ListCheckRuns { git_ref } => with_repo(cx, |cx, key| checks::list(cx, key, git_ref)),
    }
}

/// Runs `f` with the repository's key, or answers 404.
fn with_repo(cx: &mut Ctx<'_>, f: impl FnOnce(&mut Ctx<'_>, &str) -> Reply) -> Reply {
    match cx.repo_key() {
        Some(key) => f(cx, &key),
        None => Reply::not_found(),
    }
}

fn installation_permissions() -> Value {
    json!({
        "checks": "read",
        "contents": "write",
        "issues": "write",
        "pull_requests": "write",
        "metadata": "read",
    })
}

fn app_events() -> Value {
    json!([
        "check_run",
        "check_suite",
        "issue_comment",
        "pull_request",
        "pull_request_review",
        "pull_request_review_comment",
    ])
}

fn get_app(cx: &mut Ctx<'_>) -> Reply {
    let c = &cx.sh.config;
    Reply::ok(json!({
        "id": c.app_id,
        "slug": c.app_slug,
        "node_id": json::node_id("App", c.app_id),
        "name": c.app_slug,
        "description": "",
        "external_url": cx.base(),
        "html_url": format!("{}/apps/{}", cx.base(), c.app_slug),
        "created_at": rfc3339(cx.now),
        "updated_at": rfc3339(cx.now),
        "permissions": installation_permissions(),
        "events": app_events(),
        "installations_count": 1,
    }))
}

fn create_access_token(cx: &mut Ctx<'_>, installation: &str) -> Reply {
    if installation.parse::<u64>().ok() != Some(cx.sh.config.installation_id) {
        return Reply::not_found();
    }
    let token = auth::new_installation_token();
    let expires_at = cx.now + cx.sh.config.token_ttl;
    cx.st.tokens.insert(token.clone(), expires_at);
    cx.st.issued.push(token.clone());
    Reply::json(
        StatusCode::CREATED,
        json!({
            "token": token,
            "expires_at": rfc3339(expires_at),
            "permissions": installation_permissions(),
            "repository_selection": "all",
        }),
    )
}

fn get_repo_installation(cx: &mut Ctx<'_>, key: &str) -> Reply {
    let c = &cx.sh.config;
    let r = &cx.st.repos[key];
    let account = json::user_by_login(cx.base(), cx.st, &r.repo.owner);
    let id = c.installation_id;
    Reply::ok(json!({
        "id": id,
        "account": account,
        "repository_selection": "all",
        "access_tokens_url": format!("{}/app/installations/{id}/access_tokens", cx.base()),
        "repositories_url": format!("{}/installation/repositories", cx.base()),
        "html_url": format!("{}/settings/installations/{id}", cx.base()),
        "app_id": c.app_id,
        "app_slug": c.app_slug,
        "target_id": account["id"],
        "target_type": "User",
        "permissions": installation_permissions(),
        "events": app_events(),
        "created_at": rfc3339(r.created_at),
        "updated_at": rfc3339(r.created_at),
        "single_file_name": null,
        "suspended_at": null,
        "suspended_by": null,
    }))
}

fn get_permission(cx: &mut Ctx<'_>, key: &str, login: &str) -> Reply {
    let Some(user) = cx.st.user(login).cloned() else {
        return Reply::not_found();
    };
    let r = &cx.st.repos[key];
    // The REST `permission` folds roles into admin/write/read/none; the
    // role itself is in `role_name`.
    let (permission, role) = match r.role_of(login) {
        Some("admin") => ("admin", "admin"),
        Some("maintain") => ("write", "maintain"),
        Some("write") => ("write", "write"),
        Some("triage") => ("read", "triage"),
        Some("read") => ("read", "read"),
        _ => ("none", "none"),
    };
    let mut user_json = json::user(cx.base(), &user);
    user_json["permissions"] = json!({
        "admin": permission == "admin",
        "maintain": role == "maintain" || role == "admin",
        "push": permission == "admin" || permission == "write",
        "triage": role != "read" && role != "none",
        "pull": role != "none",
    });
    user_json["role_name"] = json!(role);
    Reply::ok(json!({"permission": permission, "role_name": role, "user": user_json}))
}

fn issue_of<'s>(st: &'s State, key: &str, number: u64) -> Option<&'s IssueRec> {
    st.repos.get(key)?.issues.get(&number)
}

fn get_issue(cx: &mut Ctx<'_>, key: &str, number: u64) -> Reply {
    let r = &cx.st.repos[key];
    match r.issues.get(&number) {
        Some(i) => Reply::ok(json::issue(cx.base(), cx.st, r, i)),
        None => Reply::not_found(),
    }
}

fn list_issue_comments(cx: &mut Ctx<'_>, key: &str, number: u64) -> Reply {
    if issue_of(cx.st, key, number).is_none() {
        return Reply::not_found();
    }
    let r = &cx.st.repos[key];
    let app = cx.app();
    let items = cx
        .st
        .comments_of(key, number, CommentKind::Issue)
        .into_iter()
        .map(|c| json::issue_comment(cx.base(), cx.st, r, c, &app))
        .collect();
    reply::paginate(items, cx.base(), cx.path, cx.query)
}

fn create_issue_comment(cx: &mut Ctx<'_>, key: &str, number: u64) -> Reply {
    if issue_of(cx.st, key, number).is_none() {
        return Reply::not_found();
    }
    let body = match reply::required_body(cx.input, "IssueComment") {
        Ok(body) => body.to_string(),
        Err(e) => return e,
    };
    let author = cx.sh.app_login();
    let id = cx
        .st
        .add_comment(key, number, CommentKind::Issue, &author, &body, None);
    if cx.st.fail_after_commenting.pop_front() == Some(true) {
        return Reply::error(StatusCode::INTERNAL_SERVER_ERROR, "Server Error", "");
    }
    Reply::created(comment_json(cx, key, id))
}

fn comment_json(cx: &Ctx<'_>, key: &str, id: u64) -> Value {
    let r = &cx.st.repos[key];
    let c = &cx.st.comments[&id];
    match c.kind {
        CommentKind::Issue => json::issue_comment(cx.base(), cx.st, r, c, &cx.app()),
        CommentKind::Review => json::review_comment(cx.base(), cx.st, r, c),
    }
}

/// A comment of `kind` in this repository (and pull request, when given).
fn find_comment(st: &State, key: &str, id: u64, kind: CommentKind, number: Option<u64>) -> bool {
    st.comments
        .get(&id)
        .is_some_and(|c| c.repo == key && c.kind == kind && number.is_none_or(|n| c.number == n))
}

fn get_comment(
    cx: &mut Ctx<'_>,
    key: &str,
    id: u64,
    kind: CommentKind,
    number: Option<u64>,
) -> Reply {
    if !find_comment(cx.st, key, id, kind, number) {
        return Reply::not_found();
    }
    Reply::ok(comment_json(cx, key, id))
}

fn resource_of(kind: CommentKind) -> &'static str {
    match kind {
        CommentKind::Issue => "IssueComment",
        CommentKind::Review => "PullRequestReviewComment",
    }
}

fn edit_comment(cx: &mut Ctx<'_>, key: &str, id: u64, kind: CommentKind) -> Reply {
    if !find_comment(cx.st, key, id, kind, None) {
        return Reply::not_found();
    }
    let body = match reply::required_body(cx.input, resource_of(kind)) {
        Ok(body) => body.to_string(),
        Err(e) => return e,
    };
    cx.st.edit_comment(id, &body);
    Reply::ok(comment_json(cx, key, id))
}

fn react(cx: &mut Ctx<'_>, key: &str, id: u64, kind: CommentKind) -> Reply {
    if !find_comment(cx.st, key, id, kind, None) {
        return Reply::not_found();
    }
    let Some(content) = cx.input["content"]
        .as_str()
        .filter(|c| REACTIONS.contains(c))
    else {
        return Reply::validation("Reaction", "content", "invalid", None);
    };
    let user = cx.sh.app_login();
    let existing = cx
        .st
        .reactions
        .iter()
        .find(|r| r.comment_id == id && r.user == user && r.content == content);
    if let Some(r) = existing {
        return Reply::ok(json::reaction(cx.base(), cx.st, r));
    }
    let created_at = cx.st.tick();
    let reaction = super::state::ReactionRec {
        id: cx.st.next_reaction_id(),
        comment_id: id,
        user,
        content: content.to_string(),
        created_at,
    };
    let v = json::reaction(cx.base(), cx.st, &reaction);
    cx.st.reactions.push(reaction);
    Reply::json(StatusCode::CREATED, v)
}

fn pr_of<'s>(st: &'s State, key: &str, number: u64) -> Option<(&'s RepoState, &'s IssueRec)> {
    let r = st.repos.get(key)?;
    let i = r.issues.get(&number).filter(|i| i.pr.is_some())?;
    Some((r, i))
}

fn get_pull(cx: &mut Ctx<'_>, key: &str, number: u64) -> Reply {
    let Some((r, i)) = pr_of(cx.st, key, number) else {
        return Reply::not_found();
    };
    let pre = cx.prefetched.expect("pull requests are prefetched");
    if cx.accept.contains("application/vnd.github.diff")
        || cx.accept.contains("application/vnd.github.v3.diff")
    {
        return Reply {
            status: StatusCode::OK,
            body: reply::Body::Text(
                pre.diff.clone(),
                "application/vnd.github.diff; charset=utf-8",
            ),
            headers: Vec::new(),
        };
    }
    let stats = PrStats {
        commits: pre.commits,
        files: pre.files.clone(),
    };
    Reply::ok(json::pull_request(cx.base(), cx.st, r, i, Some(&stats)))
}

fn list_files(cx: &mut Ctx<'_>, key: &str, number: u64) -> Reply {
    let Some((r, _)) = pr_of(cx.st, key, number) else {
        return Reply::not_found();
    };
    let pre = cx.prefetched.expect("pull requests are prefetched");
    let items = pre
        .files
        .iter()
        .map(|f| json::file(cx.base(), r, &pre.head_sha, f))
        .collect();
    reply::paginate(items, cx.base(), cx.path, cx.query)
}

fn list_review_comments(cx: &mut Ctx<'_>, key: &str, number: u64) -> Reply {
    let Some((r, _)) = pr_of(cx.st, key, number) else {
        return Reply::not_found();
    };
    let items = cx
        .st
        .comments_of(key, number, CommentKind::Review)
        .into_iter()
        .map(|c| json::review_comment(cx.base(), cx.st, r, c))
        .collect();
    reply::paginate(items, cx.base(), cx.path, cx.query)
}

fn reply_to_review_comment(cx: &mut Ctx<'_>, key: &str, number: u64, id: u64) -> Reply {
    if !find_comment(cx.st, key, id, CommentKind::Review, Some(number)) {
        return Reply::not_found();
    }
    let body = match reply::required_body(cx.input, "PullRequestReviewComment") {
        Ok(body) => body.to_string(),
        Err(e) => return e,
    };
    let author = cx.sh.app_login();
    let id = add_review_comment(cx.st, key, number, &author, &body, reply_anchor(cx.st, id));
    Reply::created(comment_json(cx, key, id))
}

/// A reply sits where its thread's first comment sits; GitHub threads
/// replies to replies onto that root.
fn reply_anchor(st: &State, parent: u64) -> ReviewAnchor {
    let parent_anchor = st.comments[&parent]
        .anchor
        .as_ref()
        .expect("a review comment");
    let root = parent_anchor.in_reply_to.unwrap_or(parent);
    let root_anchor = st.comments[&root].anchor.clone().expect("a review comment");
    ReviewAnchor {
        in_reply_to: Some(root),
        ..root_anchor
    }
}

/// A single review comment: like GitHub, it comes with its own review
/// (state `COMMENTED`, empty body) that `GET …/reviews` lists.
pub(super) fn add_review_comment(
    st: &mut State,
    key: &str,
    number: u64,
    author: &str,
    body: &str,
    anchor: ReviewAnchor,
) -> u64 {
    let review_id = st.add_review(key, number, author, "", "COMMENTED", &anchor.commit_id);
    let anchor = ReviewAnchor {
        review_id,
        ..anchor
    };
    st.add_comment(key, number, CommentKind::Review, author, body, Some(anchor))
}

fn review_of<'s>(
    st: &'s State,
    key: &str,
    number: u64,
    id: u64,
) -> Option<&'s super::state::ReviewRec> {
    st.reviews
        .get(&id)
        .filter(|r| r.repo == key && r.number == number)
}

fn list_reviews(cx: &mut Ctx<'_>, key: &str, number: u64) -> Reply {
    let Some((r, _)) = pr_of(cx.st, key, number) else {
        return Reply::not_found();
    };
    let items = cx
        .st
        .reviews_of(key, number)
        .into_iter()
        .map(|rv| json::review(cx.base(), cx.st, r, rv))
        .collect();
    reply::paginate(items, cx.base(), cx.path, cx.query)
}

fn create_review(cx: &mut Ctx<'_>, key: &str, number: u64) -> Reply {
    let Some((_, i)) = pr_of(cx.st, key, number) else {
        return Reply::not_found();
    };
    let head_sha = i.pr.as_ref().expect("a pull request").head_sha.clone();
    let state = match cx.input["event"].as_str() {
        None | Some("") => "PENDING",
        Some("COMMENT") => "COMMENTED",
        Some("APPROVE") => "APPROVED",
        Some("REQUEST_CHANGES") => "CHANGES_REQUESTED",
        Some(_) => return Reply::validation("PullRequestReview", "event", "invalid", None),
    };
    let body = cx.input["body"].as_str().unwrap_or_default().to_string();
    if let Err(e) = reply::check_length(&body, "PullRequestReview") {
        return e;
    }
    let inline = cx.input["comments"].as_array().cloned().unwrap_or_default();
    if body.trim().is_empty()
        && inline.is_empty()
        && matches!(state, "COMMENTED" | "CHANGES_REQUESTED")
    {
        let event = cx.input["event"].as_str().unwrap_or_default();
        return Reply::unprocessable(&[&format!(
            "Review body is required when using the {event} event"
        )]);
    }
    let commit_id = cx.input["commit_id"]
        .as_str()
        .map(str::to_string)
        .unwrap_or(head_sha);
    // Inline comments are checked against the diff before anything is
    // written: a bad one fails the whole review, as on GitHub.
    let pre = cx.prefetched.expect("pull requests are prefetched");
    let mut anchors = Vec::new();
    for c in &inline {
        let (Some(path), Some(line), Some(text)) =
            (c["path"].as_str(), c["line"].as_u64(), c["body"].as_str())
        else {
            return Reply::unprocessable(&["Each review comment needs path, line and body"]);
        };
        let Some((diff_hunk, position)) = pre
            .files
            .iter()
            .find(|f| f.filename == path)
            .and_then(|f| f.patch.as_deref())
            .and_then(|p| git::locate_line(p, line))
        else {
            return Reply::unprocessable(&["Line could not be resolved"]);
        };
        if let Err(e) = reply::check_length(text, "PullRequestReviewComment") {
            return e;
        }
        anchors.push((
            ReviewAnchor {
                path: path.to_string(),
                line,
                diff_hunk,
                position,
                commit_id: commit_id.clone(),
                review_id: 0,
                in_reply_to: None,
            },
            text.to_string(),
        ));
    }
    let author = cx.sh.app_login();
    let id = cx
        .st
        .add_review(key, number, &author, &body, state, &commit_id);
    for (anchor, text) in anchors {
        let anchor = ReviewAnchor {
            review_id: id,
            ..anchor
        };
        cx.st.add_comment(
            key,
            number,
            CommentKind::Review,
            &author,
            &text,
            Some(anchor),
        );
    }
    let r = &cx.st.repos[key];
    Reply::ok(json::review(cx.base(), cx.st, r, &cx.st.reviews[&id]))
}

fn update_review(cx: &mut Ctx<'_>, key: &str, number: u64, id: u64) -> Reply {
    if review_of(cx.st, key, number, id).is_none() {
        return Reply::not_found();
    }
    let body = match reply::required_body(cx.input, "PullRequestReview") {
        Ok(body) => body.to_string(),
        Err(e) => return e,
    };
    let at = cx.st.tick();
    let rv = cx.st.reviews.get_mut(&id).expect("checked above");
    rv.versions.push(super::types::BodyVersion { body, at });
    let r = &cx.st.repos[key];
    Reply::ok(json::review(cx.base(), cx.st, r, &cx.st.reviews[&id]))
}
