//! A fake GitHub for end-to-end tests: the REST API a GitHub App uses, git
//! smart HTTP for its clones and pushes, and signed webhook deliveries.
//!
//! Why: the bot's GitHub promises — only people with write access trigger
//! it, it ignores its own and edited-after-the-fact comments, the
//! installation token never leaks, answers respect the 65,536-character
//! limit, commits reach the PR branch only when allowed, GitHub is never
//! flooded — can only be proven against something that behaves like GitHub
//! on the wire. This server speaks GitHub's REST API over real HTTP on
//! loopback (the bot's `github.api_url` = [`FakeGitHub::api_url`]), checks
//! the App's JWT with a real RSA key, hands out expiring installation
//! tokens, serves real bare repositories through `git http-backend`,
//! enforces the secondary rate limits with real 403s, records every call,
//! and lets a test act as people on GitHub and wait for what the bot does.
//!
//! Layout, one job per file:
//! * `server` — the request pipeline: auth, limits, record, headers;
//! * `routes` — the endpoints, as a pure parse of method and path;
//! * `handlers` — what each endpoint does to the state;
//! * `reply` — answers, GitHub's error bodies, pagination and `Link`;
//! * `auth` — the App key, JWT verification, installation tokens;
//! * `rate_limit` — secondary limits as a pure function of time;
//! * `githttp` — git smart HTTP through `git http-backend`, push records;
//! * `git`, `repos` — bare repositories, test commits, PR refs;
//! * `pulls` — listing and opening pull requests over REST;
//! * `checks` — check runs and suites: test setup, REST list, JSON;
//! * `json` — GitHub's object shapes, shared by REST and webhooks;
//! * `payloads`, `webhook` — webhook bodies and signed deliveries;
//! * `state` — everything remembered, behind one lock, and the clocks;
//! * `api`, `types`, `config` — what tests use.
//!
//! # Ordering guarantees
//! * A REST call's authentication, rate-limit decision, effect and call
//!   record happen in one critical section, before the answer is written:
//!   when a test sees a comment, the call that made it is in `calls()`.
//! * A push is in `pushes()`, the PR's head sha and `refs/pull/N/head` have
//!   moved, before the client gets the end of the receive-pack answer.
//! * Content timestamps come from a content clock that moves exactly one
//!   second per write (comment, edit, review, reaction, commit, PR), so
//!   `created_at`/`updated_at` order is the order of writes; real time is
//!   used only for token/JWT expiry, rate limits and call records.
//! * Ids (comments, reviews, reactions, issues) grow in creation order;
//!   issues and pull requests share one number sequence per repository.
//! * `deliver` returns after the receiver answered; deliveries are never
//!   retried by the fake (GitHub does not retry either; `redeliver` does,
//!   with the same delivery id).
//!
//! # Faithful
//! App JWT rules (RS256, `iss` number or string, ≤ 10 min, 60 s skew) with
//! GitHub's error texts; `ghs_` tokens expiring after an hour; `token` and
//! `Bearer` schemes; 401 `Requires authentication` / `Bad credentials`;
//! 404 `Not Found` for unknown routes and objects; JSON shapes of users,
//! repositories, issues (with `pull_request` only on PRs), pull requests
//! (head/base with label, ref, sha, repo), issue and review comments (with
//! `diff_hunk`, `position`, `line`, `in_reply_to_id`), reviews, reactions;
//! `collaborators/{user}/permission` with `permission` + `role_name`;
//! listing pull requests (`head` only as `owner:branch`, newest first) and
//! opening them with GitHub's 422s (`invalid` head or base, `A pull request
//! already exists for owner:branch.`, `No commits between …`);
//! check runs of a commit or branch (`filter=latest` by default, the
//! suite's conclusion the most severe of its runs') and the `check_run`
//! and `check_suite` webhooks that report them;
//! the PR diff (`git diff base...head`) under `application/vnd.github.diff`
//! and `pulls/{n}/files` from the same diff; `per_page`/`page` with
//! GitHub's `Link` header; the 65,536-character body limit with GitHub's
//! 422; reactions answering 200 when they already exist; single review
//! comments and replies wrapped in their own `COMMENTED` review; the
//! secondary limits (80/min, 500/h per installation) with 403 and
//! `retry-after`; `x-ratelimit-*` headers; Hookshot's delivery headers and
//! both HMAC signatures; webhook payload shapes for an App on a user-owned
//! repository; `refs/pull/N/head`; Basic auth for git with the token as
//! password and `WWW-Authenticate: Basic realm="GitHub"`. Faults on demand:
//! `fail_after_commenting` creates an issue comment and answers 500, as an
//! answer lost on the way.
//!
//! # Simplified
//! One App with one installation covering every repository; repositories
//! are user-owned and private; no organizations, teams, forks, milestones,
//! merges or closing; labels and assignees only as tests set them (no
//! label list, no REST to change them, any login may be assigned); check runs all come from
//! GitHub Actions, one suite per commit, without annotations, logs or
//! re-runs, and a check-runs `ref` that is no branch must be a full sha;
//! "no commits between" only when head and base are one commit; token
//! requests ignore `repositories`/`permissions` narrowing; the App can edit any comment;
//! `author_association` is only `OWNER`, `COLLABORATOR` or `NONE`; review
//! comments are single-line on the RIGHT side, and inline review comments
//! take `line` (not `position`); a `PENDING` review is listed like a
//! submitted one; the primary rate limit is counted, never enforced; the
//! secondary limit's punishments for ignoring `retry-after` are only
//! recorded as violations; Hookshot's connection and body size limits are
//! not modelled; `deliver_raw`/response bodies are read without chunked
//! decoding; gzip-encoded receive-pack requests (git does not send them)
//! would be served but not recorded as pushes.

mod api;
mod auth;
mod checks;
mod config;
mod git;
mod githttp;
mod handlers;
mod json;
mod payloads;
mod pulls;
mod rate_limit;
mod reply;
mod repos;
mod routes;
mod server;
mod state;
mod types;
mod webhook;

// The whole test-facing surface is re-exported here; a given test binary
// names only some of these items.
#[allow(unused_imports)]
pub use api::FakeGitHub;
#[allow(unused_imports)]
pub use config::FakeGitHubConfig;
#[allow(unused_imports)]
pub use payloads::{CommentAction, PrAction};
#[allow(unused_imports)]
pub use types::{
    BodyVersion, CallAuth, CallRecord, CommentKind, CommentState, Delivery, FakeCheckRun,
    FakeComment, FakeIssue, FakePr, FakeRepo, FakeReview, FakeUser, PrState, Push, ReviewState,
    UserKind, Violation,
};
#[allow(unused_imports)]
pub use webhook::{hub_signature_256, hub_signature_sha1};
