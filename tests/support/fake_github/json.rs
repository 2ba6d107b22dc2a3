//! GitHub's object shapes (user, repository, issue, pull request, comments,
//! reviews, reactions), shared by the REST answers and the webhook payloads,
//! so the two never disagree. Field sets follow GitHub's REST reference and
//! the `@octokit/webhooks-examples` payloads; rarely read `*_url` templates
//! are left out. Every URL points at the fake (`api_url` for API objects,
//! the same host for `html_url`), so a client that follows one stays on it.

use serde_json::{Value, json};

use super::auth::rfc3339;
use super::git::FileDiff;
use super::state::{CommentRec, IssueRec, PrRec, ReactionRec, RepoState, ReviewRec, State};
use super::types::{CommentKind, FakeUser, UserKind};

pub(super) const DOCS: &str = "https://docs.github.com/rest";

/// GitHub's legacy global node ids: base64 of `0<len>:<Type><id>`.
pub(super) fn node_id(kind: &str, id: u64) -> String {
    use base64::Engine as _;
    let inner = format!("{kind}{id}");
    base64::engine::general_purpose::STANDARD.encode(format!("0{}:{inner}", kind.len()))
}

/// A login as it appears in a URL path (`[bot]` escaped).
fn escape_login(login: &str) -> String {
    login.replace('[', "%5B").replace(']', "%5D")
}

pub(super) fn user(base: &str, u: &FakeUser) -> Value {
    let html_url = match (u.kind, u.login.strip_suffix("[bot]")) {
        (UserKind::Bot, Some(app)) => format!("{base}/apps/{app}"),
        _ => format!("{base}/{}", u.login),
    };
    json!({
        "login": u.login,
        "id": u.id,
        "node_id": node_id(if u.kind == UserKind::Bot { "Bot" } else { "User" }, u.id),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{}?v=4", u.id),
        "gravatar_id": "",
        "url": format!("{base}/users/{}", escape_login(&u.login)),
        "html_url": html_url,
        "type": u.kind.as_str(),
        "site_admin": false,
    })
}

/// A login's user object; an unknown login (never registered) is shown as a
/// plain user with id 0 rather than panicking inside the server.
pub(super) fn user_by_login(base: &str, st: &State, login: &str) -> Value {
    match st.user(login) {
        Some(u) => user(base, u),
        None => user(
            base,
            &FakeUser {
                login: login.to_string(),
                id: 0,
                kind: UserKind::User,
            },
        ),
    }
}

pub(super) fn repo_api_url(base: &str, r: &RepoState) -> String {
    format!("{base}/repos/{}/{}", r.repo.owner, r.repo.name)
}

fn repo_html_url(base: &str, r: &RepoState) -> String {
    format!("{base}/{}/{}", r.repo.owner, r.repo.name)
}

pub(super) fn repository(base: &str, st: &State, r: &RepoState) -> Value {
    let api = repo_api_url(base, r);
    let html = repo_html_url(base, r);
    let open_issues = r.issues.values().filter(|i| i.state == "open").count();
    let v = json!({
        "id": r.repo.id,
        "node_id": node_id("Repository", r.repo.id),
        "name": r.repo.name,
        "full_name": r.repo.full_name(),
        "private": r.private,
        "owner": user_by_login(base, st, &r.repo.owner),
        "html_url": html,
        "description": null,
        "fork": false,
        "url": api,
        "pulls_url": format!("{api}/pulls{{/number}}"),
        "issues_url": format!("{api}/issues{{/number}}"),
        "created_at": rfc3339(r.created_at),
        "updated_at": rfc3339(r.pushed_at),
        "pushed_at": rfc3339(r.pushed_at),
    });
    // Split in two: one `json!` this long exceeds the macro recursion limit.
    let more = json!({
        "git_url": format!("{}.git", html.replacen("http://", "git://", 1)),
        "ssh_url": format!("git@127.0.0.1:{}.git", r.repo.full_name()),
        "clone_url": format!("{html}.git"),
        "svn_url": html,
        "homepage": null,
        "size": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "language": null,
        "has_issues": true,
        "has_projects": false,
        "has_downloads": true,
        "has_wiki": false,
        "has_pages": false,
        "forks_count": 0,
        "mirror_url": null,
        "archived": false,
        "disabled": false,
        "open_issues_count": open_issues,
        "license": null,
        "is_template": false,
        "topics": [],
        "visibility": if r.private { "private" } else { "public" },
        "forks": 0,
        "open_issues": open_issues,
        "watchers": 0,
        "default_branch": r.default_branch,
    });
    merge(v, more)
}

/// `a` with the fields of `b` added.
pub(super) fn merge(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

/// `OWNER`, `COLLABORATOR` or `NONE` (GitHub also knows `MEMBER`,
/// `CONTRIBUTOR`, … which user-owned repositories without history lack).
pub(super) fn author_association(r: &RepoState, login: &str) -> &'static str {
    if login.eq_ignore_ascii_case(&r.repo.owner) {
        "OWNER"
    } else if r.roles.contains_key(&login.to_ascii_lowercase()) {
        "COLLABORATOR"
    } else {
        "NONE"
    }
}

fn reactions_rollup(st: &State, url: &str, comment_id: Option<u64>) -> Value {
    let mut counts = json!({
        "url": url, "total_count": 0, "+1": 0, "-1": 0, "laugh": 0,
        "hooray": 0, "confused": 0, "heart": 0, "rocket": 0, "eyes": 0,
    });
    if let Some(id) = comment_id {
        for r in st.reactions.iter().filter(|r| r.comment_id == id) {
            counts["total_count"] = json!(counts["total_count"].as_u64().unwrap_or(0) + 1);
            counts[&r.content] = json!(counts[&r.content].as_u64().unwrap_or(0) + 1);
        }
    }
    counts
}

/// `performed_via_github_app` for content the App made.
fn via_app(base: &str, st: &State, author: &str, app: &AppInfo) -> Value {
    if author.eq_ignore_ascii_case(&app.bot_login) {
        let owner = st.user(&app.bot_login).map(|u| user(base, u));
        json!({
            "id": app.id, "slug": app.slug, "node_id": node_id("App", app.id),
            "owner": owner, "name": app.slug,
        })
    } else {
        Value::Null
    }
}

/// What the JSON needs to know about the App.
pub(super) struct AppInfo {
    pub id: u64,
    pub slug: String,
    pub bot_login: String,
}

pub(super) fn issue(base: &str, st: &State, r: &RepoState, i: &IssueRec) -> Value {
    let api = format!("{}/issues/{}", repo_api_url(base, r), i.number);
    let key = super::state::repo_key(&r.repo.owner, &r.repo.name);
    let comments = st.comments_of(&key, i.number, CommentKind::Issue).len();
    let mut v = json!({
        "url": api,
        "repository_url": repo_api_url(base, r),
        "comments_url": format!("{api}/comments"),
        "html_url": format!("{}/{}/{}", repo_html_url(base, r), if i.pr.is_some() { "pull" } else { "issues" }, i.number),
        "id": i.id,
        "node_id": node_id("Issue", i.id),
        "number": i.number,
        "title": i.title,
        "user": user_by_login(base, st, &i.author),
        "labels": i.labels.iter().map(|name| label(base, r, name)).collect::<Vec<_>>(),
        "state": i.state,
        "locked": false,
        "assignee": i.assignees.first().map(|a| user_by_login(base, st, a)),
        "assignees": i.assignees.iter().map(|a| user_by_login(base, st, a)).collect::<Vec<_>>(),
        "milestone": null,
        "comments": comments,
        "created_at": rfc3339(i.created_at),
        "updated_at": rfc3339(i.updated_at),
        "closed_at": null,
        "author_association": author_association(r, &i.author),
        "active_lock_reason": null,
        "body": i.body,
        "reactions": reactions_rollup(st, &format!("{api}/reactions"), None),
        "performed_via_github_app": null,
        "state_reason": null,
    });
    if let Some(pr) = &i.pr {
        let html = format!("{}/pull/{}", repo_html_url(base, r), i.number);
        v["draft"] = json!(pr.draft);
        v["pull_request"] = json!({
            "url": format!("{}/pulls/{}", repo_api_url(base, r), i.number),
            "html_url": html,
            "diff_url": format!("{html}.diff"),
            "patch_url": format!("{html}.patch"),
            "merged_at": null,
        });
    }
    v
}

/// A repository's label, as issues and `labeled` payloads show it. The fake keeps no label
/// list: a label's id is derived from the repository and the name (in any case, as GitHub's
/// names are unique case-insensitively), so the same label always has the same id.
pub(super) fn label(base: &str, r: &RepoState, name: &str) -> Value {
    let id = name
        .to_lowercase()
        .bytes()
        .fold(r.repo.id.wrapping_mul(1_000_003), |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
        % 10_000_000_000;
    json!({
        "id": id,
        "node_id": node_id("Label", id),
        "url": format!("{}/labels/{}", repo_api_url(base, r), name.replace(' ', "%20")),
        "name": name,
        "color": "ededed",
        "default": false,
        "description": null,
    })
}

/// Numbers GitHub computes from git for a pull request.
#[derive(Debug, Clone, Default)]
pub(super) struct PrStats {
    pub commits: u64,
    pub files: Vec<FileDiff>,
}

fn branch_end(base: &str, st: &State, r: &RepoState, branch: &str, sha: &str) -> Value {
    json!({
        "label": format!("{}:{branch}", r.repo.owner),
        "ref": branch,
        "sha": sha,
        "user": user_by_login(base, st, &r.repo.owner),
        "repo": repository(base, st, r),
    })
}

pub(super) fn pull_request(
    base: &str,
    st: &State,
    r: &RepoState,
    i: &IssueRec,
    stats: Option<&PrStats>,
) -> Value {
    let pr: &PrRec = i.pr.as_ref().expect("a pull request");
    let repo_api = repo_api_url(base, r);
    let api = format!("{repo_api}/pulls/{}", i.number);
    let html = format!("{}/pull/{}", repo_html_url(base, r), i.number);
    let issue_api = format!("{repo_api}/issues/{}", i.number);
    let key = super::state::repo_key(&r.repo.owner, &r.repo.name);
    let comments = st.comments_of(&key, i.number, CommentKind::Issue).len();
    let review_comments = st.comments_of(&key, i.number, CommentKind::Review).len();
    let v = json!({
        "url": api,
        "id": pr.id,
        "node_id": node_id("PullRequest", pr.id),
        "html_url": html,
        "diff_url": format!("{html}.diff"),
        "patch_url": format!("{html}.patch"),
        "issue_url": issue_api,
        "number": i.number,
        "state": i.state,
        "locked": false,
        "title": i.title,
        "user": user_by_login(base, st, &i.author),
        "body": i.body,
        "created_at": rfc3339(i.created_at),
        "updated_at": rfc3339(i.updated_at),
        "closed_at": null,
        "merged_at": null,
        "merge_commit_sha": null,
        "assignee": null,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "labels": [],
        "milestone": null,
        "draft": pr.draft,
    });
    let more = json!({
        "commits_url": format!("{api}/commits"),
        "review_comments_url": format!("{api}/comments"),
        "review_comment_url": format!("{repo_api}/pulls/comments{{/number}}"),
        "comments_url": format!("{issue_api}/comments"),
        "statuses_url": format!("{repo_api}/statuses/{}", pr.head_sha),
        "head": branch_end(base, st, r, &pr.head_ref, &pr.head_sha),
        "base": branch_end(base, st, r, &pr.base_ref, &r.base_sha(pr)),
        "_links": {
            "self": {"href": api},
            "html": {"href": html},
            "issue": {"href": issue_api},
            "comments": {"href": format!("{issue_api}/comments")},
            "review_comments": {"href": format!("{api}/comments")},
            "commits": {"href": format!("{api}/commits")},
        },
        "author_association": author_association(r, &i.author),
        "auto_merge": null,
        "active_lock_reason": null,
        "merged": false,
        "mergeable": null,
        "rebaseable": null,
        "mergeable_state": "unknown",
        "merged_by": null,
        "comments": comments,
        "review_comments": review_comments,
        "maintainer_can_modify": pr.maintainer_can_modify,
    });
    let mut v = merge(v, more);
    if let Some(s) = stats {
        v["commits"] = json!(s.commits);
        v["additions"] = json!(s.files.iter().map(|f| f.additions).sum::<u64>());
        v["deletions"] = json!(s.files.iter().map(|f| f.deletions).sum::<u64>());
        v["changed_files"] = json!(s.files.len());
    }
    v
}

pub(super) fn file(base: &str, r: &RepoState, head_sha: &str, f: &FileDiff) -> Value {
    let html = repo_html_url(base, r);
    let mut v = json!({
        "sha": null,
        "filename": f.filename,
        "status": f.status,
        "additions": f.additions,
        "deletions": f.deletions,
        "changes": f.additions + f.deletions,
        "blob_url": format!("{html}/blob/{head_sha}/{}", f.filename),
        "raw_url": format!("{html}/raw/{head_sha}/{}", f.filename),
        "contents_url": format!("{}/contents/{}?ref={head_sha}", repo_api_url(base, r), f.filename),
    });
    if let Some(patch) = &f.patch {
        v["patch"] = json!(patch);
    }
    if let Some(prev) = &f.previous_filename {
        v["previous_filename"] = json!(prev);
    }
    v
}

pub(super) fn issue_comment(
    base: &str,
    st: &State,
    r: &RepoState,
    c: &CommentRec,
    app: &AppInfo,
) -> Value {
    let repo_api = repo_api_url(base, r);
    let url = format!("{repo_api}/issues/comments/{}", c.id);
    let is_pr = r.issues.get(&c.number).is_some_and(|i| i.pr.is_some());
    let html = format!(
        "{}/{}/{}#issuecomment-{}",
        repo_html_url(base, r),
        if is_pr { "pull" } else { "issues" },
        c.number,
        c.id
    );
    json!({
        "url": url,
        "html_url": html,
        "issue_url": format!("{repo_api}/issues/{}", c.number),
        "id": c.id,
        "node_id": node_id("IssueComment", c.id),
        "user": user_by_login(base, st, &c.author),
        "created_at": rfc3339(c.created_at()),
        "updated_at": rfc3339(c.updated_at()),
        "author_association": author_association(r, &c.author),
        "body": c.body(),
        "reactions": reactions_rollup(st, &format!("{url}/reactions"), Some(c.id)),
        "performed_via_github_app": via_app(base, st, &c.author, app),
    })
}

pub(super) fn review_comment(base: &str, st: &State, r: &RepoState, c: &CommentRec) -> Value {
    let a = c.anchor.as_ref().expect("a review comment has an anchor");
    let repo_api = repo_api_url(base, r);
    let url = format!("{repo_api}/pulls/comments/{}", c.id);
    let pr_url = format!("{repo_api}/pulls/{}", c.number);
    let html = format!(
        "{}/pull/{}#discussion_r{}",
        repo_html_url(base, r),
        c.number,
        c.id
    );
    let mut v = json!({
        "url": url,
        "pull_request_review_id": a.review_id,
        "id": c.id,
        "node_id": node_id("PullRequestReviewComment", c.id),
        "diff_hunk": a.diff_hunk,
        "path": a.path,
        "position": a.position,
        "original_position": a.position,
        "commit_id": a.commit_id,
        "original_commit_id": a.commit_id,
        "user": user_by_login(base, st, &c.author),
        "body": c.body(),
        "created_at": rfc3339(c.created_at()),
        "updated_at": rfc3339(c.updated_at()),
        "html_url": html,
        "pull_request_url": pr_url,
        "author_association": author_association(r, &c.author),
        "_links": {
            "self": {"href": url},
            "html": {"href": html},
            "pull_request": {"href": pr_url},
        },
        "reactions": reactions_rollup(st, &format!("{url}/reactions"), Some(c.id)),
        "start_line": null,
        "original_start_line": null,
        "start_side": null,
        "line": a.line,
        "original_line": a.line,
        "side": "RIGHT",
        "subject_type": "line",
    });
    if let Some(parent) = a.in_reply_to {
        v["in_reply_to_id"] = json!(parent);
    }
    v
}

/// A review as the REST API shows it (`state` upper case); webhooks use
/// lower case, see `payloads`.
pub(super) fn review(base: &str, st: &State, r: &RepoState, rv: &ReviewRec) -> Value {
    let pr_url = format!("{}/pulls/{}", repo_api_url(base, r), rv.number);
    let html = format!(
        "{}/pull/{}#pullrequestreview-{}",
        repo_html_url(base, r),
        rv.number,
        rv.id
    );
    json!({
        "id": rv.id,
        "node_id": node_id("PullRequestReview", rv.id),
        "user": user_by_login(base, st, &rv.author),
        "body": rv.body(),
        "state": rv.state,
        "html_url": html,
        "pull_request_url": pr_url,
        "author_association": author_association(r, &rv.author),
        "_links": {"html": {"href": html}, "pull_request": {"href": pr_url}},
        "submitted_at": rv.submitted_at.map(rfc3339),
        "commit_id": rv.commit_id,
    })
}

pub(super) fn reaction(base: &str, st: &State, re: &ReactionRec) -> Value {
    json!({
        "id": re.id,
        "node_id": node_id("Reaction", re.id),
        "user": user_by_login(base, st, &re.user),
        "content": re.content,
        "created_at": rfc3339(re.created_at),
    })
}

/// A GitHub error body.
pub(super) fn error(message: &str, documentation_url: &str, status: u16) -> Value {
    json!({
        "message": message,
        "documentation_url": documentation_url,
        "status": status.to_string(),
    })
}
