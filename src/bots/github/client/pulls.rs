//! Opening a session branch's pull request, once.
//!
//! `/pr` pushes the branch, then asks for the pull request; the bot may die between the two, a
//! second `/pr` may run after a first that got no answer, and a later turn asks again after
//! every push. So opening is idempotent on the branch: an open pull request whose head is the
//! branch is the answer, whatever its base (someone may have retargeted it on GitHub, and a
//! second pull request from one branch would only confuse). Only when there is none is one
//! created; when GitHub refuses that because one appeared in between (`A pull request already
//! exists for owner:branch.`, its 422 for a second open pull request of one head and base),
//! the one that won is read back.

use reqwest::Method;
use serde::Serialize;

use super::{ApiError, GitHubClient, decode};
use crate::bots::github::payload::PullRequest;

/// The words of GitHub's 422 when the branch already has an open pull request into that base.
const ALREADY_EXISTS: &str = "A pull request already exists";

/// The branch's open pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequestOpened {
    pub number: u64,
    pub html_url: String,
    /// Opened by this call; `false` when it was already open.
    pub created: bool,
}

/// `POST /repos/{owner}/{repo}/pulls`.
#[derive(Serialize)]
struct NewPullRequest<'a> {
    title: &'a str,
    head: &'a str,
    base: &'a str,
    body: &'a str,
}

impl GitHubClient {
    /// Opens a pull request from `head_branch` (a branch of `repo`) into `base`, or finds the
    /// one already open from that branch (`created: false`).
    pub async fn open_pull_request(
        &self,
        repo: &str,
        head_branch: &str,
        base: &str,
        title: &str,
        body: &str,
    ) -> Result<PullRequestOpened, ApiError> {
        if let Some(open) = self.open_pull_from(repo, head_branch).await? {
            return Ok(open);
        }
        let request = NewPullRequest {
            title,
            head: head_branch,
            base,
            body,
        };
        let path = format!("/repos/{repo}/pulls");
        let sent = self.request(repo, Method::POST, &path).await?;
        match self.send(sent.json(&request)).await {
            Ok(response) => {
                let pull: PullRequest = decode(response).await?;
                Ok(PullRequestOpened {
                    number: pull.number,
                    html_url: pull.html_url,
                    created: true,
                })
            }
            Err(ApiError::Status {
                status: 422,
                message,
            }) if message.contains(ALREADY_EXISTS) => {
                // Opened in between (another `/pr`, an answer lost before a restart).
                self.open_pull_from(repo, head_branch)
                    .await?
                    .ok_or(ApiError::Status {
                        status: 422,
                        message,
                    })
            }
            Err(e) => Err(e),
        }
    }

    /// The open pull request whose head is `branch` of `repo`, if there is one.
    async fn open_pull_from(
        &self,
        repo: &str,
        branch: &str,
    ) -> Result<Option<PullRequestOpened>, ApiError> {
        // GitHub filters on `owner:branch` only (a bare branch name is ignored and every open
        // pull request comes back), hence the owner, and the check of each answer's head.
        let owner = repo.split_once('/').map_or(repo, |(owner, _)| owner);
        let label = format!("{owner}:{branch}");
        let path = format!("/repos/{repo}/pulls");
        let request = self.request(repo, Method::GET, &path).await?.query(&[
            ("head", label.as_str()),
            ("state", "open"),
            ("per_page", "100"),
        ]);
        let pulls: Vec<PullRequest> = decode(self.send(request).await?).await?;
        Ok(pulls
            .into_iter()
            .find(|pull| is_head(pull, owner, branch))
            .map(|pull| PullRequestOpened {
                number: pull.number,
                html_url: pull.html_url,
                created: false,
            }))
    }
}

/// Whether `pull`'s head is `branch` of `owner`'s repository (logins compare without case, as on
/// GitHub; a fork's branch of the same name is someone else's).
fn is_head(pull: &PullRequest, owner: &str, branch: &str) -> bool {
    pull.head.ref_name == branch
        && pull
            .head
            .label
            .as_deref()
            .and_then(|label| label.split_once(':'))
            .is_some_and(|(login, name)| login.eq_ignore_ascii_case(owner) && name == branch)
}
