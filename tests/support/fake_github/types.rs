//! The values tests hold and inspect: people, repositories, pull requests,
//! comments, what the bot called and pushed. Plain data, cloned out of the
//! fake's state; a handle (`FakeRepo`, `FakePr`, `FakeComment`) names a thing
//! in the fake, its current state is asked from the fake.

use std::time::{Duration, SystemTime};

use bytes::Bytes;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserKind {
    /// `"type": "User"`.
    User,
    /// `"type": "Bot"`: Dependabot, Renovate, other Apps.
    Bot,
}

impl UserKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Bot => "Bot",
        }
    }
}

/// An account known to the fake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeUser {
    pub login: String,
    pub id: u64,
    pub kind: UserKind,
}

/// A repository (owned by a user, never an organization).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeRepo {
    pub owner: String,
    pub name: String,
    pub id: u64,
}

impl FakeRepo {
    /// `owner/name`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }
}

/// An issue (not a pull request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeIssue {
    pub repo: FakeRepo,
    pub number: u64,
}

/// A pull request; `number` is shared with issues, as on GitHub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakePr {
    pub repo: FakeRepo,
    pub number: u64,
    pub head_ref: String,
    pub base_ref: String,
}

/// A pull request as the fake holds it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrState {
    pub number: u64,
    pub head_ref: String,
    pub base_ref: String,
    pub head_sha: String,
    pub title: String,
    pub body: String,
    pub author: String,
    /// `open` or `closed`.
    pub state: String,
    pub draft: bool,
}

/// Names a check run CI reported on a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeCheckRun {
    pub id: u64,
    pub repo: FakeRepo,
    pub head_sha: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentKind {
    /// A comment in the conversation of an issue or pull request
    /// (`/issues/comments/{id}`).
    Issue,
    /// An inline review comment on a pull request's diff
    /// (`/pulls/comments/{id}`).
    Review,
}

/// Names a comment in the fake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeComment {
    pub id: u64,
    pub repo: FakeRepo,
    /// The issue or pull request it belongs to.
    pub number: u64,
    pub kind: CommentKind,
}

/// Names a submitted review in the fake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeReview {
    pub id: u64,
    pub repo: FakeRepo,
    pub number: u64,
}

/// One body a comment or review has shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyVersion {
    pub body: String,
    /// On the fake's content clock.
    pub at: SystemTime,
}

/// A comment as the fake holds it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentState {
    pub id: u64,
    pub kind: CommentKind,
    pub author: String,
    pub body: String,
    /// Every body it has shown, oldest first; the last is current.
    pub versions: Vec<BodyVersion>,
    pub created_at: SystemTime,
    pub updated_at: SystemTime,
    /// For review comments: the file and the line on the diff's right side.
    pub path: Option<String>,
    pub line: Option<u64>,
    pub in_reply_to_id: Option<u64>,
}

impl CommentState {
    /// How many times it was edited.
    pub fn edits(&self) -> usize {
        self.versions.len().saturating_sub(1)
    }
}

/// A pull request review as the fake holds it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewState {
    pub id: u64,
    pub author: String,
    pub body: String,
    /// `COMMENTED`, `APPROVED`, `CHANGES_REQUESTED` or `PENDING`, as in the
    /// REST API's `state`.
    pub state: String,
    pub commit_id: String,
    pub versions: Vec<BodyVersion>,
    pub submitted_at: Option<SystemTime>,
}

impl ReviewState {
    pub fn edits(&self) -> usize {
        self.versions.len().saturating_sub(1)
    }
}

/// A ref the bot moved through `git push` over HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    pub repo: String,
    pub refname: String,
    /// 40 zeros when the ref was created.
    pub old: String,
    /// 40 zeros when the ref was deleted.
    pub new: String,
    /// The installation token the push was authenticated with.
    pub token: String,
    pub at: SystemTime,
}

/// How a request authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallAuth {
    /// No `Authorization` header.
    None,
    /// A valid App JWT.
    AppJwt,
    /// A live installation token.
    Installation,
    /// Credentials were sent and refused.
    Rejected,
}

/// One HTTP request the fake answered (REST or git).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    pub method: String,
    /// Path without the query string.
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    pub auth: CallAuth,
    /// When it arrived (real time).
    pub at: SystemTime,
}

/// A content-creating request that arrived while the installation was
/// blocked by a secondary rate limit: the bot ignored a `retry-after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub method: String,
    pub path: String,
    pub at: SystemTime,
    pub window_end: SystemTime,
}

impl Violation {
    /// How early the request came.
    pub fn early_by(&self) -> Duration {
        self.window_end
            .duration_since(self.at)
            .unwrap_or(Duration::ZERO)
    }
}

/// One webhook POST made by the fake, with what the receiver answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `X-GitHub-Delivery`.
    pub id: String,
    pub event: String,
    pub url: String,
    /// The exact bytes that were signed and sent.
    pub body: Bytes,
    /// The receiver's HTTP status; 0 when it could not be reached.
    pub status: u16,
    /// The receiver's response body (or the connection error).
    pub response: String,
}
