//! The REST endpoints the fake implements, as a pure function from method
//! and path segments to an operation. Anything else is GitHub's 404, so an
//! endpoint the bot needs but the fake lacks fails loudly in tests.

use axum::http::Method;

/// `owner` and `name` of the repository in the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RepoPath {
    pub owner: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Op {
    // App (JWT) endpoints.
    GetApp,
    CreateAccessToken {
        installation: String,
    },
    GetRepoInstallation,
    // Installation-token endpoints.
    GetRepo,
    GetPermission {
        user: String,
    },
    GetIssue {
        number: u64,
    },
    ListIssueComments {
        number: u64,
    },
    CreateIssueComment {
        number: u64,
    },
    GetIssueComment {
        id: u64,
    },
    EditIssueComment {
        id: u64,
    },
    ReactToIssueComment {
        id: u64,
    },
    ListPulls,
    CreatePull,
    GetPull {
        number: u64,
    },
    ListPullFiles {
        number: u64,
    },
    ListReviewComments {
        number: u64,
    },
    ReplyToReviewComment {
        number: u64,
        id: u64,
    },
    GetReviewComment {
        id: u64,
    },
    EditReviewComment {
        id: u64,
    },
    ReactToReviewComment {
        id: u64,
    },
    ListReviews {
        number: u64,
    },
    CreateReview {
        number: u64,
    },
    GetReview {
        number: u64,
        id: u64,
    },
    UpdateReview {
        number: u64,
        id: u64,
    },
    /// `ref`: a commit, a branch (which may hold `/`) or `heads/<branch>`.
    ListCheckRuns {
        git_ref: String,
    },
}

impl Op {
    /// Authenticated with the App's JWT rather than an installation token.
    pub fn is_app_endpoint(&self) -> bool {
        matches!(
            self,
            Self::GetApp | Self::CreateAccessToken { .. } | Self::GetRepoInstallation
        )
    }

    /// Counts against the secondary limit on content creation.
    pub fn creates_content(&self) -> bool {
        matches!(
            self,
            Self::CreatePull
                | Self::CreateIssueComment { .. }
                | Self::EditIssueComment { .. }
                | Self::ReactToIssueComment { .. }
                | Self::ReplyToReviewComment { .. }
                | Self::EditReviewComment { .. }
                | Self::ReactToReviewComment { .. }
                | Self::CreateReview { .. }
                | Self::UpdateReview { .. }
        )
    }

    /// The pull request whose git diff the operation needs.
    pub fn needs_diff(&self) -> Option<u64> {
        match self {
            Self::GetPull { number }
            | Self::ListPullFiles { number }
            | Self::CreateReview { number } => Some(*number),
            _ => None,
        }
    }
}

pub(super) fn parse(method: &Method, segs: &[&str]) -> Option<(Option<RepoPath>, Op)> {
    let num = |s: &str| s.parse::<u64>().ok();
    let m = method.as_str();
    if let ["app"] = segs {
        return (m == "GET").then_some((None, Op::GetApp));
    }
    if let ["app", "installations", id, "access_tokens"] = segs {
        let op = Op::CreateAccessToken {
            installation: id.to_string(),
        };
        return (m == "POST").then_some((None, op));
    }
    let ["repos", owner, name, rest @ ..] = segs else {
        return None;
    };
    let repo = RepoPath {
        owner: owner.to_string(),
        name: name.to_string(),
    };
    let op = match (m, rest) {
        ("GET", []) => Op::GetRepo,
        ("GET", ["installation"]) => Op::GetRepoInstallation,
        ("GET", ["collaborators", user, "permission"]) => Op::GetPermission {
            user: user.to_string(),
        },
        ("GET", ["issues", "comments", id]) => Op::GetIssueComment { id: num(id)? },
        ("PATCH", ["issues", "comments", id]) => Op::EditIssueComment { id: num(id)? },
        ("POST", ["issues", "comments", id, "reactions"]) => {
            Op::ReactToIssueComment { id: num(id)? }
        }
        ("GET", ["issues", n]) => Op::GetIssue { number: num(n)? },
        ("GET", ["issues", n, "comments"]) => Op::ListIssueComments { number: num(n)? },
        ("POST", ["issues", n, "comments"]) => Op::CreateIssueComment { number: num(n)? },
        ("GET", ["pulls", "comments", id]) => Op::GetReviewComment { id: num(id)? },
        ("PATCH", ["pulls", "comments", id]) => Op::EditReviewComment { id: num(id)? },
        ("POST", ["pulls", "comments", id, "reactions"]) => {
            Op::ReactToReviewComment { id: num(id)? }
        }
        ("GET", ["pulls"]) => Op::ListPulls,
        ("POST", ["pulls"]) => Op::CreatePull,
        ("GET", ["pulls", n]) => Op::GetPull { number: num(n)? },
        ("GET", ["pulls", n, "files"]) => Op::ListPullFiles { number: num(n)? },
        ("GET", ["pulls", n, "comments"]) => Op::ListReviewComments { number: num(n)? },
        ("POST", ["pulls", n, "comments", id, "replies"]) => Op::ReplyToReviewComment {
            number: num(n)?,
            id: num(id)?,
        },
        ("GET", ["pulls", n, "reviews"]) => Op::ListReviews { number: num(n)? },
        ("POST", ["pulls", n, "reviews"]) => Op::CreateReview { number: num(n)? },
        ("GET", ["pulls", n, "reviews", id]) => Op::GetReview {
            number: num(n)?,
            id: num(id)?,
        },
        ("PUT", ["pulls", n, "reviews", id]) => Op::UpdateReview {
            number: num(n)?,
            id: num(id)?,
        },
        ("GET", ["commits", git_ref @ .., "check-runs"]) if !git_ref.is_empty() => {
            Op::ListCheckRuns {
                git_ref: git_ref.join("/"),
            }
        }
        _ => return None,
    };
    Some((Some(repo), op))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(method: Method, path: &str) -> Option<Op> {
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        parse(&method, &segs).map(|(_, op)| op)
    }

    #[test]
    fn literal_segments_win_over_numbers() {
        assert_eq!(
            op(Method::GET, "/repos/o/r/issues/comments/5"),
            Some(Op::GetIssueComment { id: 5 })
        );
        assert_eq!(
            op(Method::GET, "/repos/o/r/issues/5/comments"),
            Some(Op::ListIssueComments { number: 5 })
        );
        assert_eq!(
            op(Method::POST, "/repos/o/r/pulls/2/comments/9/replies"),
            Some(Op::ReplyToReviewComment { number: 2, id: 9 })
        );
    }

    #[test]
    fn a_branch_ref_of_check_runs_keeps_its_slashes() {
        assert_eq!(
            op(
                Method::GET,
                "/repos/o/r/commits/switchboard/ab12/check-runs"
            ),
            Some(Op::ListCheckRuns {
                git_ref: "switchboard/ab12".into()
            })
        );
        assert_eq!(op(Method::GET, "/repos/o/r/commits/check-runs"), None);
        assert_eq!(op(Method::POST, "/repos/o/r/pulls"), Some(Op::CreatePull));
        assert_eq!(op(Method::GET, "/repos/o/r/pulls"), Some(Op::ListPulls));
    }

    #[test]
    fn unknown_paths_methods_and_numbers_are_none() {
        assert_eq!(op(Method::DELETE, "/repos/o/r/issues/comments/5"), None);
        assert_eq!(op(Method::GET, "/repos/o/r/issues/abc"), None);
        assert_eq!(op(Method::GET, "/repos/o/r/branches"), None);
        assert_eq!(op(Method::GET, "/user"), None);
        assert_eq!(op(Method::GET, "/app/installations/1/access_tokens"), None);
    }
}
