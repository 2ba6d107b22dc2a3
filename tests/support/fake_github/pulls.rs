//! Listing and opening pull requests: `GET` and `POST /repos/{o}/{r}/pulls`.
//!
//! Faithful where a client that opens pull requests can go wrong: `head`
//! filters only as `owner:branch` (a bare branch name is ignored and every
//! pull request is listed, as on GitHub); the list is newest first; a
//! create names an existing `head` (`branch` or `owner:branch`) and `base`,
//! else 422 `invalid`; a second open pull request for one head and base is
//! GitHub's 422 `A pull request already exists for owner:branch.`; a head
//! at the base's commit is `No commits between base and head`. The App is
//! the author of what it opens. A fault on demand, `lag_pull_lists`: lists
//! that answer as if they ran before another client's create landed. Simplified: no forks (another owner's head
//! is `invalid`); "no commits between" is only caught when head and base
//! are the same commit (not when the head is behind the base).

use serde_json::json;

use super::handlers::Ctx;
use super::json;
use super::reply::{self, Reply};
use super::state::{IssueRec, NewPull};

/// `GET /repos/{o}/{r}/pulls`: `state` (`open`, `closed`, `all`; default
/// `open`), `head` (`owner:branch`), `base`, `sort` (`created`, `updated`),
/// `direction` (default `desc`), pages.
pub(super) fn list(cx: &mut Ctx<'_>, key: &str) -> Reply {
    if cx.st.lagging_pull_lists > 0 {
        cx.st.lagging_pull_lists -= 1;
        return Reply::ok(json!([]));
    }
    let param = |name: &str| {
        cx.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let r = &cx.st.repos[key];
    let state = param("state").unwrap_or("open");
    let head = param("head").and_then(|h| h.split_once(':'));
    let base = param("base");
    let mut pulls: Vec<&IssueRec> = r
        .issues
        .values()
        .filter(|i| state == "all" || i.state == state)
        .filter(|i| {
            i.pr.as_ref().is_some_and(|p| {
                head.is_none_or(|(owner, branch)| {
                    owner.eq_ignore_ascii_case(&r.repo.owner) && p.head_ref == branch
                }) && base.is_none_or(|b| p.base_ref == b)
            })
        })
        .collect();
    match param("sort") {
        Some("updated") => pulls.sort_by_key(|i| (i.updated_at, i.number)),
        _ => pulls.sort_by_key(|i| i.number),
    }
    if param("direction") != Some("asc") {
        pulls.reverse();
    }
    let items = pulls
        .into_iter()
        .map(|i| json::pull_request(&cx.sh.base_url, cx.st, r, i, None))
        .collect();
    reply::paginate(items, &cx.sh.base_url, cx.path, cx.query)
}

/// `POST /repos/{o}/{r}/pulls`: `title`, `head`, `base`, `body`, `draft`.
pub(super) fn create(cx: &mut Ctx<'_>, key: &str) -> Reply {
    let input = cx.input;
    let text = |name: &str| input[name].as_str().filter(|s| !s.trim().is_empty());
    let (Some(title), Some(head), Some(base)) = (text("title"), text("head"), text("base")) else {
        let missing = ["title", "head", "base"]
            .into_iter()
            .find(|f| text(f).is_none())
            .unwrap_or("title");
        return Reply::validation("PullRequest", missing, "missing_field", None);
    };
    let body = input["body"].as_str().unwrap_or_default();
    if let Err(too_long) = reply::check_length(body, "PullRequest") {
        return too_long;
    }
    let r = &cx.st.repos[key];
    let owner = r.repo.owner.clone();
    let head = match head.split_once(':') {
        None => head,
        Some((user, branch)) if user.eq_ignore_ascii_case(&owner) => branch,
        Some(_) => return Reply::validation("PullRequest", "head", "invalid", None),
    };
    let (Some(head_sha), Some(base_sha)) = (r.branches.get(head), r.branches.get(base)) else {
        let field = if r.branches.contains_key(head) {
            "base"
        } else {
            "head"
        };
        return Reply::validation("PullRequest", field, "invalid", None);
    };
    if r.open_pull(head, base).is_some() {
        let message = format!("A pull request already exists for {owner}:{head}.");
        return Reply::validation_custom("PullRequest", &message);
    }
    if head_sha == base_sha {
        let message = format!("No commits between {base} and {head}");
        return Reply::validation_custom("PullRequest", &message);
    }
    let author = cx.sh.app_login();
    let pull = NewPull {
        head,
        base,
        title,
        body,
        author: &author,
        draft: input["draft"].as_bool().unwrap_or(false),
    };
    let number = cx.st.add_pull(key, pull);
    let r = &cx.st.repos[key];
    let v = json::pull_request(&cx.sh.base_url, cx.st, r, &r.issues[&number], None);
    Reply::created(v)
}
