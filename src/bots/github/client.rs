//! A small GitHub REST client: the endpoints Switchboard uses, as an installation of the App.
//!
//! Written on reqwest (already in the tree through teloxide) instead of octocrab, which would
//! bring a second HTTP stack and a second crypto provider for a dozen calls. Every call names
//! the repository it acts on; the client finds the repository's installation (remembered from
//! webhooks, or asked with the App's JWT) and uses a cached installation token for it.
//!
//! Delivering a session's work has modules of its own: `pulls` opens a branch's pull request
//! (once, whatever crashed in between) and `checks` reads how a commit's checks ended.

mod checks;
mod pulls;

pub use crate::domain::checks::{CheckOutput, ChecksSummary, FailingCheck};
pub use pulls::PullRequestOpened;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::app_auth::{AppKey, TokenCache};
use super::payload::{Comment, Issue, PullRequest, Repository, User};
use super::permission::{CollaboratorPermission, Permission};
use crate::config::Secret;

/// Pages read at most from a paginated list (100 items each).
const MAX_PAGES: u32 = 10;
/// What GitHub is told about the client.
const USER_AGENT: &str = concat!("switchboard/", env!("CARGO_PKG_VERSION"));

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// A primary or secondary rate limit: wait this long.
    #[error("rate limited by GitHub for {}s", retry_after.as_secs())]
    RateLimited { retry_after: Duration },
    #[error("GitHub answered {status}: {message}")]
    Status { status: u16, message: String },
    #[error("cannot reach GitHub: {0}")]
    Network(String),
    #[error("unexpected answer from GitHub: {0}")]
    Decode(String),
}

impl ApiError {
    /// Worth retrying later (network trouble, a server error).
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Network(_) | ApiError::RateLimited { .. } => true,
            ApiError::Status { status, .. } => *status >= 500,
            ApiError::Decode(_) => false,
        }
    }
}

/// A file a pull request changes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PullFile {
    pub filename: String,
    pub patch: Option<String>,
}

/// A pull request review, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReviewSummary {
    pub id: u64,
    pub body: Option<String>,
    pub user: Option<User>,
}

/// An answer of which only the id is read: something created, an installation.
#[derive(Deserialize)]
struct Identified {
    id: u64,
}

/// `GET /app`: the App's slug.
#[derive(Deserialize)]
struct App {
    slug: String,
}

/// `POST /app/installations/{id}/access_tokens`.
#[derive(Deserialize)]
struct InstallationToken {
    token: String,
    /// RFC 3339; without it (or unreadable), the token is kept 50 minutes.
    #[serde(default)]
    expires_at: Option<String>,
}

/// The body of a refusal; GitHub's `message` says why (and may name a rate limit), and a 422's
/// `errors` say what was wrong (`A pull request already exists for owner:branch.`).
#[derive(Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    errors: Vec<ErrorDetail>,
}

/// One of a 422's `errors`: a sentence (the reviews API), an object with a `message`, or an
/// object naming the field and what is wrong with it (`head` `invalid`).
#[derive(Deserialize)]
#[serde(untagged)]
enum ErrorDetail {
    Text(String),
    Field {
        #[serde(default)]
        message: Option<String>,
        #[serde(default)]
        resource: Option<String>,
        #[serde(default)]
        field: Option<String>,
        #[serde(default)]
        code: Option<String>,
    },
    /// Anything else is skipped rather than losing the `message` with it.
    Unknown(serde::de::IgnoredAny),
}

impl ErrorDetail {
    fn describe(self) -> Option<String> {
        match self {
            ErrorDetail::Text(text) => Some(text),
            ErrorDetail::Field {
                message: Some(message),
                ..
            } => Some(message),
            ErrorDetail::Field {
                resource,
                field,
                code,
                ..
            } => {
                let words: Vec<String> = [resource, field, code].into_iter().flatten().collect();
                (!words.is_empty()).then(|| words.join(" "))
            }
            ErrorDetail::Unknown(_) => None,
        }
    }
}

pub struct GitHubClient {
    http: reqwest::Client,
    api: String,
    app: AppKey,
    tokens: TokenCache,
    installations: Mutex<HashMap<String, u64>>,
}

impl GitHubClient {
    pub fn new(api_url: &str, app: AppKey) -> anyhow::Result<GitHubClient> {
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(GitHubClient {
            http,
            api: api_url.trim_end_matches('/').to_owned(),
            app,
            tokens: TokenCache::default(),
            installations: Mutex::default(),
        })
    }

    /// Notes a repository's installation (every webhook names it).
    pub fn remember_installation(&self, repo: &str, installation: u64) {
        self.installations
            .lock()
            .expect("installations lock")
            .insert(repo.to_owned(), installation);
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, ApiError> {
        let response = request
            .header("X-GitHub-Api-Version", "2022-11-28")
            .send()
            .await
            .map_err(|e| ApiError::Network(e.without_url().to_string()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let headers = response.headers().clone();
        let message = refusal_message(&response.bytes().await.unwrap_or_default());
        if let Some(retry_after) = rate_limit_wait(status, &headers, &message, SystemTime::now()) {
            return Err(ApiError::RateLimited { retry_after });
        }
        Err(ApiError::Status {
            status: status.as_u16(),
            message,
        })
    }

    /// The App's slug (its bot account is `<slug>[bot]`).
    pub async fn app_slug(&self) -> Result<String, ApiError> {
        let jwt = self.jwt()?;
        let response = self
            .send(
                self.http
                    .get(format!("{}/app", self.api))
                    .bearer_auth(jwt.expose()),
            )
            .await?;
        let app: App = decode(response).await?;
        Ok(app.slug)
    }

    fn jwt(&self) -> Result<Secret, ApiError> {
        self.app
            .jwt(SystemTime::now())
            .map_err(|e| ApiError::Decode(e.to_string()))
    }

    /// A token for an installation, cached until close to its expiry.
    pub async fn installation_token(&self, installation: u64) -> Result<Secret, ApiError> {
        if let Some(token) = self.tokens.get(installation, SystemTime::now()) {
            return Ok(token);
        }
        let jwt = self.jwt()?;
        let url = format!(
            "{}/app/installations/{installation}/access_tokens",
            self.api
        );
        let response = self
            .send(self.http.post(url).bearer_auth(jwt.expose()))
            .await?;
        let answer: InstallationToken = decode(response).await?;
        let expires = answer
            .expires_at
            .and_then(|t| humantime::parse_rfc3339(&t).ok())
            .unwrap_or_else(|| SystemTime::now() + Duration::from_secs(3000));
        let token = Secret::new(answer.token);
        self.tokens.put(installation, token.clone(), expires);
        Ok(token)
    }

    /// The installation that covers a repository.
    pub async fn installation_for(&self, repo: &str) -> Result<u64, ApiError> {
        if let Some(id) = self
            .installations
            .lock()
            .expect("installations lock")
            .get(repo)
        {
            return Ok(*id);
        }
        let jwt = self.jwt()?;
        let url = format!("{}/repos/{repo}/installation", self.api);
        let response = self
            .send(self.http.get(url).bearer_auth(jwt.expose()))
            .await?;
        let Identified { id } = decode(response).await?;
        self.remember_installation(repo, id);
        Ok(id)
    }

    /// A token for the installation that covers `repo`.
    pub async fn token_for(&self, repo: &str) -> Result<Secret, ApiError> {
        let installation = self.installation_for(repo).await?;
        self.installation_token(installation).await
    }

    /// A request on `repo`'s installation, to send with [`Self::send`].
    async fn request(
        &self,
        repo: &str,
        method: Method,
        path: &str,
    ) -> Result<reqwest::RequestBuilder, ApiError> {
        let token = self.token_for(repo).await?;
        Ok(self
            .http
            .request(method, format!("{}{path}", self.api))
            .bearer_auth(token.expose())
            .header("Accept", "application/vnd.github+json"))
    }

    async fn call(
        &self,
        repo: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<reqwest::Response, ApiError> {
        let mut request = self.request(repo, method, path).await?;
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(request).await
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        repo: &str,
        path: &str,
    ) -> Result<T, ApiError> {
        decode(self.call(repo, Method::GET, path, None).await?).await
    }

    /// Every page of a list.
    async fn get_all<T: serde::de::DeserializeOwned>(
        &self,
        repo: &str,
        path: &str,
    ) -> Result<Vec<T>, ApiError> {
        let mut all = Vec::new();
        for page in 1..=MAX_PAGES {
            let sep = if path.contains('?') { '&' } else { '?' };
            let items: Vec<T> = self
                .get(repo, &format!("{path}{sep}per_page=100&page={page}"))
                .await?;
            let done = items.len() < 100;
            all.extend(items);
            if done {
                break;
            }
        }
        Ok(all)
    }

    /// What `login` may do in `repo` (someone GitHub does not know there has no access).
    pub async fn permission(&self, repo: &str, login: &str) -> Result<Permission, ApiError> {
        let path = format!("/repos/{repo}/collaborators/{login}/permission");
        match self.get::<CollaboratorPermission>(repo, &path).await {
            Ok(answer) => Ok(answer.level()),
            Err(ApiError::Status { status: 404, .. }) => Ok(Permission::None),
            Err(e) => Err(e),
        }
    }

    pub async fn issue(&self, repo: &str, number: u64) -> Result<Issue, ApiError> {
        self.get(repo, &format!("/repos/{repo}/issues/{number}"))
            .await
    }

    /// The repository (its clone URL and default branch), read with its installation's token.
    pub async fn repository(&self, repo: &str) -> Result<Repository, ApiError> {
        self.get(repo, &format!("/repos/{repo}")).await
    }

    pub async fn pull_request(&self, repo: &str, number: u64) -> Result<PullRequest, ApiError> {
        self.get(repo, &format!("/repos/{repo}/pulls/{number}"))
            .await
    }

    /// The pull request's unified diff.
    pub async fn pull_diff(&self, repo: &str, number: u64) -> Result<String, ApiError> {
        let token = self.token_for(repo).await?;
        let request = self
            .http
            .get(format!("{}/repos/{repo}/pulls/{number}", self.api))
            .bearer_auth(token.expose())
            .header("Accept", "application/vnd.github.diff");
        self.send(request)
            .await?
            .text()
            .await
            .map_err(|e| ApiError::Network(e.without_url().to_string()))
    }

    pub async fn pull_files(&self, repo: &str, number: u64) -> Result<Vec<PullFile>, ApiError> {
        self.get_all(repo, &format!("/repos/{repo}/pulls/{number}/files"))
            .await
    }

    pub async fn issue_comments(&self, repo: &str, number: u64) -> Result<Vec<Comment>, ApiError> {
        self.get_all(repo, &format!("/repos/{repo}/issues/{number}/comments"))
            .await
    }

    /// Comments on an issue or pull request; returns the comment's id.
    pub async fn create_comment(
        &self,
        repo: &str,
        number: u64,
        body: &str,
    ) -> Result<u64, ApiError> {
        let path = format!("/repos/{repo}/issues/{number}/comments");
        let created: Identified = decode(
            self.call(repo, Method::POST, &path, Some(json!({ "body": body })))
                .await?,
        )
        .await?;
        Ok(created.id)
    }

    pub async fn edit_comment(&self, repo: &str, id: u64, body: &str) -> Result<(), ApiError> {
        let path = format!("/repos/{repo}/issues/comments/{id}");
        self.call(repo, Method::PATCH, &path, Some(json!({ "body": body })))
            .await?;
        Ok(())
    }

    /// Replies in the thread of an inline review comment; returns the reply's id.
    pub async fn reply_to_review_comment(
        &self,
        repo: &str,
        number: u64,
        comment: u64,
        body: &str,
    ) -> Result<u64, ApiError> {
        let path = format!("/repos/{repo}/pulls/{number}/comments/{comment}/replies");
        let created: Identified = decode(
            self.call(repo, Method::POST, &path, Some(json!({ "body": body })))
                .await?,
        )
        .await?;
        Ok(created.id)
    }

    /// Edits an inline review comment (the bot's replies in a review thread).
    pub async fn edit_review_comment(
        &self,
        repo: &str,
        id: u64,
        body: &str,
    ) -> Result<(), ApiError> {
        let path = format!("/repos/{repo}/pulls/comments/{id}");
        self.call(repo, Method::PATCH, &path, Some(json!({ "body": body })))
            .await?;
        Ok(())
    }

    /// Reacts to an issue comment (`review == false`) or an inline review comment.
    pub async fn react(
        &self,
        repo: &str,
        comment: u64,
        review: bool,
        content: &str,
    ) -> Result<(), ApiError> {
        let kind = if review { "pulls" } else { "issues" };
        let path = format!("/repos/{repo}/{kind}/comments/{comment}/reactions");
        self.call(
            repo,
            Method::POST,
            &path,
            Some(json!({ "content": content })),
        )
        .await?;
        Ok(())
    }

    pub async fn reviews(&self, repo: &str, number: u64) -> Result<Vec<ReviewSummary>, ApiError> {
        self.get_all(repo, &format!("/repos/{repo}/pulls/{number}/reviews"))
            .await
    }

    /// Posts a review (event COMMENT); returns its id.
    pub async fn create_review(
        &self,
        repo: &str,
        number: u64,
        body: &str,
    ) -> Result<u64, ApiError> {
        let path = format!("/repos/{repo}/pulls/{number}/reviews");
        let payload = json!({ "body": body, "event": "COMMENT" });
        let created: Identified =
            decode(self.call(repo, Method::POST, &path, Some(payload)).await?).await?;
        Ok(created.id)
    }

    pub async fn update_review(
        &self,
        repo: &str,
        number: u64,
        id: u64,
        body: &str,
    ) -> Result<(), ApiError> {
        let path = format!("/repos/{repo}/pulls/{number}/reviews/{id}");
        self.call(repo, Method::PUT, &path, Some(json!({ "body": body })))
            .await?;
        Ok(())
    }
}

async fn decode<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, ApiError> {
    let bytes = response
        .bytes()
        .await
        .map_err(|e| ApiError::Network(e.without_url().to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::Decode(e.to_string()))
}

/// What a refusal's body says (GitHub's `message`, then its `errors`), or nothing when it says
/// nothing readable.
fn refusal_message(body: &[u8]) -> String {
    let ErrorBody { message, errors } = serde_json::from_slice(body).unwrap_or_default();
    let details: Vec<String> = errors
        .into_iter()
        .filter_map(ErrorDetail::describe)
        .collect();
    match (message.is_empty(), details.is_empty()) {
        (_, true) => message,
        (true, false) => details.join("; "),
        (false, false) => format!("{message}: {}", details.join("; ")),
    }
}

/// How long to wait when a failed answer is a rate limit, `None` when it is not. GitHub says
/// "rate limit" with 429, or with 403 plus `retry-after` (secondary limits), an exhausted
/// `x-ratelimit-remaining` (primary limit, reset at `x-ratelimit-reset`, epoch seconds) or the
/// words in its message. Without a time to wait, a minute, as GitHub's documentation advises.
fn rate_limit_wait(
    status: StatusCode,
    headers: &reqwest::header::HeaderMap,
    message: &str,
    now: SystemTime,
) -> Option<Duration> {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let retry_after = number("retry-after");
    let exhausted = number("x-ratelimit-remaining") == Some(0);
    let limited = status == StatusCode::TOO_MANY_REQUESTS
        || (status == StatusCode::FORBIDDEN
            && (retry_after.is_some() || exhausted || message.contains("rate limit")));
    if !limited {
        return None;
    }
    let until_reset = number("x-ratelimit-reset")
        .filter(|_| exhausted)
        .map(|reset| {
            let now = now
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            reset.saturating_sub(now).max(1)
        });
    Some(Duration::from_secs(
        retry_after.or(until_reset).unwrap_or(60),
    ))
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderMap, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn a_refusal_s_message_is_read_when_there_is_one() {
        let body = br#"{"message": "API rate limit exceeded for installation ID 1.", "documentation_url": "https://docs.github.com/rest"}"#;
        assert_eq!(
            refusal_message(body),
            "API rate limit exceeded for installation ID 1."
        );
        for unreadable in [
            &b""[..],
            b"<html>unicorn</html>",
            br#"{"message": 5}"#,
            b"{}",
        ] {
            assert_eq!(refusal_message(unreadable), "");
        }
    }

    #[test]
    fn a_validation_failure_says_what_failed() {
        // GitHub's answer to a second pull request for the same head and base.
        let body = br#"{"message": "Validation Failed", "errors": [{"resource": "PullRequest", "code": "custom", "message": "A pull request already exists for alice:feature."}], "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request", "status": "422"}"#;
        assert_eq!(
            refusal_message(body),
            "Validation Failed: A pull request already exists for alice:feature."
        );
        let body = br#"{"message": "Validation Failed", "errors": [{"resource": "PullRequest", "field": "head", "code": "invalid"}]}"#;
        assert_eq!(
            refusal_message(body),
            "Validation Failed: PullRequest head invalid"
        );
        let body =
            br#"{"message": "Unprocessable Entity", "errors": ["Review body is too long", 7, {}]}"#;
        assert_eq!(
            refusal_message(body),
            "Unprocessable Entity: Review body is too long"
        );
    }

    #[test]
    fn a_missing_field_is_an_error_naming_it() {
        let answer = serde_json::from_str::<InstallationToken>(r#"{"expires_at": null}"#);
        let error = answer.err().expect("no token").to_string();
        assert!(error.contains("`token`"), "{error}");
        let answer: InstallationToken = serde_json::from_str(r#"{"token": "ghs_1"}"#).unwrap();
        assert_eq!((answer.token.as_str(), answer.expires_at), ("ghs_1", None));
    }

    #[test]
    fn rate_limits_are_told_apart_from_other_refusals() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let wait = |status: u16, pairs: &[(&'static str, &str)], message: &str| {
            rate_limit_wait(
                StatusCode::from_u16(status).unwrap(),
                &headers(pairs),
                message,
                now,
            )
        };
        // Secondary limit: retry-after.
        assert_eq!(
            wait(
                403,
                &[("retry-after", "17")],
                "You have exceeded a secondary rate limit"
            ),
            Some(Duration::from_secs(17))
        );
        // Primary limit: wait until the window resets.
        assert_eq!(
            wait(
                403,
                &[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "1700000042")
                ],
                "API rate limit exceeded for installation ID 1."
            ),
            Some(Duration::from_secs(42))
        );
        // 429 without a time: a minute.
        assert_eq!(wait(429, &[], ""), Some(Duration::from_secs(60)));
        // A plain permission refusal is not a rate limit.
        assert_eq!(
            wait(
                403,
                &[("x-ratelimit-remaining", "4999")],
                "Resource not accessible by integration"
            ),
            None
        );
        assert_eq!(wait(404, &[("retry-after", "5")], "Not Found"), None);
    }
}
