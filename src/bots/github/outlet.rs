//! Writing to GitHub: comments and their edits, replies in inline review threads, reactions, and
//! the dependency review (created once, then updated).
//!
//! A thread is `owner/repo` + `pr/N`, `issue/N` or `pr/N/deps` (see `translate`). Message ids
//! name what they are (`issue-comment:ID`, `review-comment:ID`, `review:ID`) because each lives
//! behind a different endpoint. A turn's tracking comment carries a hidden marker with the turn
//! id in every version. Posts longer than a comment allows (65,536 characters) continue in
//! further comments, each a collapsed section.

use std::sync::Arc;

use super::client::{ApiError, GitHubClient};
use crate::bots::outlet::{EditText, Outlet, OutletPart, PartId, PostFiles, SendError};
use crate::domain::outbound::{Attachment, Post, Reaction};
use crate::domain::outbox_key::OutboxKey;
use crate::domain::thread::{Platform, ThreadRef};
use crate::render::markdown;
use crate::reviews::MARKER;
use futures_util::future::BoxFuture;

/// Room in a comment for text (GitHub allows 65,536 characters; the rest is for wrappers).
pub const COMMENT_ROOM: usize = 60_000;

/// Room for a file's text in a comment (the rest is for its collapsed block): a longer file is
/// cut, with a note saying how long it was.
pub const FILE_ROOM: usize = COMMENT_ROOM - 200;

/// What a thread is on GitHub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub repo: String,
    pub number: u64,
    /// The dependency-review thread of a pull request.
    pub review: bool,
}

impl Target {
    pub fn of(thread: &ThreadRef) -> Option<Target> {
        let topic = thread.topic.as_deref()?;
        let mut parts = topic.split('/');
        let _kind = parts.next()?;
        let number = parts.next()?.parse().ok()?;
        Some(Target {
            repo: thread.chat.clone(),
            number,
            review: parts.next() == Some("deps"),
        })
    }
}

/// One GitHub comment (or review body): text, or one of the post's files, whose block
/// ([`attachment_block`]) is made when it is sent, from the file read then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentPart {
    Text(String),
    File(Attachment),
}

impl CommentPart {
    /// The comment's text, the file read from `files` when it is one.
    async fn body(&self, files: PostFiles<'_>) -> Result<String, SendError> {
        Ok(match self {
            CommentPart::Text(text) => text.clone(),
            // An image is shown by its path: its bytes are not read.
            CommentPart::File(file) if file.image => attachment_block(file, &[]),
            CommentPart::File(file) => attachment_block(file, &files.read(file).await?),
        })
    }
}

impl OutletPart for CommentPart {
    fn plain(&self) -> Option<CommentPart> {
        None
    }
}

pub struct GitHubOutlet {
    client: Arc<GitHubClient>,
    bot_login: String,
}

impl GitHubOutlet {
    pub fn new(client: Arc<GitHubClient>, bot_login: String) -> GitHubOutlet {
        GitHubOutlet { client, bot_login }
    }

    /// Creates the dependency review, or updates the bot's earlier one on the pull request.
    async fn post_review(&self, target: &Target, body: &str) -> Result<String, ApiError> {
        let existing = self
            .client
            .reviews(&target.repo, target.number)
            .await?
            .into_iter()
            .find(|r| {
                r.user.as_ref().is_some_and(|u| u.login == self.bot_login)
                    && r.body.as_deref().is_some_and(|b| b.contains(MARKER))
            });
        match existing {
            Some(review) => {
                self.client
                    .update_review(&target.repo, target.number, review.id, body)
                    .await?;
                Ok(format!("review:{}", review.id))
            }
            None => {
                let id = self
                    .client
                    .create_review(&target.repo, target.number, body)
                    .await?;
                Ok(format!("review:{id}"))
            }
        }
    }
}

/// The hidden marker of one part of one post, in every comment the outlet creates: a comment
/// GitHub created though its answer was lost is found by it before the part is sent again.
fn part_marker(id: PartId<'_>) -> String {
    format!("\n<!-- switchboard:part {} -->", id.nonce())
}

/// The hidden marker of a turn's tracking comment, if `key` is a turn's status.
fn turn_marker(key: &OutboxKey) -> Option<String> {
    match key {
        OutboxKey::Status(turn) => Some(format!("\n\n<!-- switchboard:turn {turn} -->")),
        _ => None,
    }
}

fn thread_target(thread: &ThreadRef) -> Result<Target, SendError> {
    Target::of(thread)
        .ok_or_else(|| SendError::Rejected(format!("not a GitHub thread: {thread:?}")))
}

fn classify(error: ApiError) -> SendError {
    match error {
        ApiError::RateLimited { retry_after } => SendError::RetryAfter(retry_after),
        e if e.is_transient() => SendError::Transient(e.to_string()),
        e => SendError::Rejected(e.to_string()),
    }
}

/// `kind:ID` → (kind, ID).
fn message_ref(message_id: &str) -> Result<(&str, u64), SendError> {
    message_id
        .split_once(':')
        .and_then(|(kind, id)| Some((kind, id.parse().ok()?)))
        .ok_or_else(|| SendError::Rejected(format!("not a GitHub message id: {message_id}")))
}

/// The inline review comment a post replies to, when it answers in a review thread.
fn review_thread_of(post: &Post) -> Option<u64> {
    post.reply_to
        .as_deref()
        .and_then(|m| message_ref(m).ok())
        .filter(|(kind, _)| *kind == "review-comment")
        .map(|(_, id)| id)
}

/// A file as a comment shows it: text (`bytes`) as a collapsed code block, cut to fit a comment;
/// an image by its path, as images cannot be uploaded through the API.
pub fn attachment_block(a: &Attachment, bytes: &[u8]) -> String {
    if a.image {
        return crate::core::replies::image_not_shown(&a.caption);
    }
    let name = a.name.replace('`', "");
    let text = String::from_utf8_lossy(bytes).into_owned();
    let content = crate::runner::changes::capped(text, FILE_ROOM);
    let language = a.name.rsplit_once('.').map_or("", |(_, ext)| ext);
    collapsed(
        &format!("{} (`{name}`)", a.caption),
        &markdown::fenced(&content, language),
    )
}

/// A `<details>` block: `summary`, and `body` shown when opened.
fn collapsed(summary: &str, body: &str) -> String {
    format!("<details><summary>{summary}</summary>\n\n{body}\n\n</details>")
}

impl Outlet for GitHubOutlet {
    type Part = CommentPart;

    fn platform(&self) -> Platform {
        Platform::GitHub
    }

    fn is_group(&self, _chat: &str) -> bool {
        false
    }

    /// The text in one comment, or in collapsed comments when it is longer than one; then each
    /// attachment in a collapsed comment of its own, as a code block.
    fn parts(&self, post: &Post) -> Vec<CommentPart> {
        let pieces = markdown::split(&post.markdown, COMMENT_ROOM);
        let count = pieces.len();
        let mut texts: Vec<String> = match count {
            1 => pieces,
            _ => pieces
                .into_iter()
                .enumerate()
                .map(|(i, piece)| collapsed(&crate::core::replies::continued(i + 1, count), &piece))
                .collect(),
        };
        texts.retain(|text| !text.trim().is_empty() || post.attachments.is_empty());
        let files = post.attachments.iter().cloned().map(CommentPart::File);
        texts
            .into_iter()
            .map(CommentPart::Text)
            .chain(files)
            .collect()
    }

    fn send<'a>(
        &'a self,
        thread: &'a ThreadRef,
        id: PartId<'a>,
        part: &'a CommentPart,
        post: &'a Post,
        files: PostFiles<'a>,
    ) -> BoxFuture<'a, Result<String, SendError>> {
        Box::pin(async move {
            let target = thread_target(thread)?;
            let text = part.body(files).await?;
            if target.review {
                return self.post_review(&target, &text).await.map_err(classify);
            }
            let body = format!(
                "{}{}{}",
                text,
                turn_marker(id.key).unwrap_or_default(),
                part_marker(id)
            );
            let sent = match review_thread_of(post) {
                Some(comment) => self
                    .client
                    .reply_to_review_comment(&target.repo, target.number, comment, &body)
                    .await
                    .map(|id| format!("review-comment:{id}")),
                None => self
                    .client
                    .create_comment(&target.repo, target.number, &body)
                    .await
                    .map(|id| format!("issue-comment:{id}")),
            };
            sent.map_err(classify)
        })
    }

    /// A conversation comment is found by its part marker among the bot's comments on the
    /// issue. Reviews need no lookup (the review is found by its own marker before it is
    /// written); a reply in an inline review thread is not among those comments, so it is
    /// sent again.
    fn find_sent<'a>(
        &'a self,
        thread: &'a ThreadRef,
        id: PartId<'a>,
        _part: &'a CommentPart,
        _since_ms: i64,
    ) -> BoxFuture<'a, Result<Option<String>, SendError>> {
        Box::pin(async move {
            let target = thread_target(thread)?;
            if target.review {
                return Ok(None);
            }
            let marker = part_marker(id);
            let comments = self
                .client
                .issue_comments(&target.repo, target.number)
                .await
                .map_err(classify)?;
            Ok(comments
                .into_iter()
                .find(|c| c.user.login == self.bot_login && c.body.contains(&marker))
                .map(|c| format!("issue-comment:{}", c.id)))
        })
    }

    fn edit<'a>(
        &'a self,
        thread: &'a ThreadRef,
        target_key: &'a OutboxKey,
        message_id: &'a str,
        text: EditText<'a>,
        _plain: bool,
    ) -> BoxFuture<'a, Result<(), SendError>> {
        let markdown = text.markdown;
        Box::pin(async move {
            let target = thread_target(thread)?;
            let (kind, id) = message_ref(message_id)?;
            let text = markdown::split(markdown, COMMENT_ROOM)
                .into_iter()
                .next()
                .unwrap_or_default();
            let body = format!("{text}{}", turn_marker(target_key).unwrap_or_default());
            let edited = match kind {
                "review-comment" => {
                    self.client
                        .edit_review_comment(&target.repo, id, &body)
                        .await
                }
                "review" => {
                    self.client
                        .update_review(&target.repo, target.number, id, &body)
                        .await
                }
                _ => self.client.edit_comment(&target.repo, id, &body).await,
            };
            edited.map_err(classify)
        })
    }

    fn react<'a>(
        &'a self,
        thread: &'a ThreadRef,
        message_id: &'a str,
        reaction: Reaction,
    ) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            let target = thread_target(thread)?;
            let (kind, id) = message_ref(message_id)?;
            let content = match reaction {
                Reaction::Eyes => "eyes",
                Reaction::Done => "rocket",
                Reaction::Failed => "confused",
            };
            let result = match kind {
                "issue-comment" => self.client.react(&target.repo, id, false, content).await,
                "review-comment" => self.client.react(&target.repo, id, true, content).await,
                // Reviews have no reactions.
                _ => Ok(()),
            };
            result.map_err(classify)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread(topic: &str) -> ThreadRef {
        ThreadRef {
            platform: Platform::GitHub,
            chat: "octo/app".into(),
            topic: Some(topic.into()),
        }
    }

    #[test]
    fn threads_name_their_repository_and_number() {
        assert_eq!(
            Target::of(&thread("pr/7")),
            Some(Target {
                repo: "octo/app".into(),
                number: 7,
                review: false
            })
        );
        assert!(Target::of(&thread("pr/7/deps")).unwrap().review);
        assert_eq!(Target::of(&thread("issue/x")), None);
        assert_eq!(
            message_ref("review-comment:42").unwrap(),
            ("review-comment", 42)
        );
        assert!(message_ref("42").is_err());
    }

    #[test]
    fn tracking_comments_carry_their_turn_marker() {
        assert_eq!(
            turn_marker(&"turn:0193:status".parse().unwrap()).as_deref(),
            Some("\n\n<!-- switchboard:turn 0193 -->")
        );
        assert_eq!(turn_marker(&"turn:0193:result".parse().unwrap()), None);
    }
}
