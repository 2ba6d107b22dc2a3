//! Sending to Slack: Markdown rendered to mrkdwn and split under Slack's message size, posted
//! into the thread (`thread_ts`), edited with `chat.update`, very long answers shared as a
//! `.md` file, reactions on the user's message.

use std::sync::Arc;

use super::client::{PostMark, SlackClient, SlackError, Upload};
use crate::bots::outlet::{
    EditText, MarkupPart, Outlet, PartId, PostFiles, SendError, markup_parts,
};
use crate::core::replies;
use crate::domain::outbound::{Post, Reaction};
use crate::domain::outbox_key::OutboxKey;
use crate::domain::thread::{Platform, ThreadRef};
use crate::render::slack::{MESSAGE_LIMIT, render};
use futures_util::future::BoxFuture;

pub struct SlackOutlet {
    client: Arc<SlackClient>,
}

impl SlackOutlet {
    pub fn new(client: Arc<SlackClient>) -> SlackOutlet {
        SlackOutlet { client }
    }
}

/// The emoji each reaction is on Slack.
fn emoji(reaction: Reaction) -> &'static str {
    match reaction {
        Reaction::Eyes => "eyes",
        Reaction::Done => "white_check_mark",
        Reaction::Failed => "x",
    }
}

/// A part's mark on Slack: its post's outbox key (as text) and its index in the post.
fn mark(key: &str, part: usize) -> PostMark<'_> {
    PostMark { key, part }
}

/// Maps Slack's errors onto what the scheduler does about them.
fn classify(error: SlackError) -> SendError {
    match error {
        // Slack's limits are per method and workspace, not per channel.
        SlackError::RateLimited(wait) => SendError::RetryAfterEverywhere(wait),
        e if e.is_transient() => SendError::Transient(e.to_string()),
        e => SendError::Rejected(e.to_string()),
    }
}

/// The first rendered part of a text, for an edit (the status message is always short).
fn first_part(markdown: &str) -> String {
    render(markdown, MESSAGE_LIMIT)
        .into_iter()
        .next()
        .map(|p| p.mrkdwn)
        .unwrap_or_else(replies::empty_message)
}

impl Outlet for SlackOutlet {
    type Part = MarkupPart;

    fn platform(&self) -> Platform {
        Platform::Slack
    }

    /// Direct messages (`D…`) are one person's; everything else is a channel.
    fn is_group(&self, chat: &str) -> bool {
        !chat.starts_with('D')
    }

    fn parts(&self, post: &Post) -> Vec<MarkupPart> {
        let rendered = render(&post.markdown, MESSAGE_LIMIT)
            .into_iter()
            .map(|p| p.mrkdwn)
            .collect();
        markup_parts(rendered, post)
    }

    fn send<'a>(
        &'a self,
        thread: &'a ThreadRef,
        id: PartId<'a>,
        part: &'a MarkupPart,
        post: &'a Post,
        files: PostFiles<'a>,
    ) -> BoxFuture<'a, Result<String, SendError>> {
        Box::pin(async move {
            let thread_ts = thread.topic.as_deref();
            match part {
                MarkupPart::Text(text) => self
                    .client
                    .post_message(
                        &thread.chat,
                        thread_ts,
                        text,
                        // The buttons go under the first message, the one later edits change.
                        if id.index == 0 { &post.buttons } else { &[] },
                        &mark(&id.key.to_string(), id.index),
                    )
                    .await
                    .map_err(classify),
                MarkupPart::File(file) => {
                    let content = files.read(file).await?;
                    self.client
                        .upload(&Upload {
                            channel: &thread.chat,
                            thread_ts,
                            filename: &file.name,
                            content: &content,
                            comment: &file.caption,
                        })
                        .await
                        .map_err(classify)
                }
            }
        })
    }

    /// Text parts carry their [`PostMark`]; files cannot (`files.completeUploadExternal` takes
    /// no metadata), so a file whose answer was lost is shared again.
    fn find_sent<'a>(
        &'a self,
        thread: &'a ThreadRef,
        id: PartId<'a>,
        part: &'a MarkupPart,
        since_ms: i64,
    ) -> BoxFuture<'a, Result<Option<String>, SendError>> {
        Box::pin(async move {
            match part {
                MarkupPart::Text(_) => self
                    .client
                    .find_marked(
                        &thread.chat,
                        thread.topic.as_deref(),
                        since_ms,
                        &mark(&id.key.to_string(), id.index),
                    )
                    .await
                    .map_err(classify),
                MarkupPart::File(_) => Ok(None),
            }
        })
    }

    fn edit<'a>(
        &'a self,
        thread: &'a ThreadRef,
        _target: &'a OutboxKey,
        message_id: &'a str,
        text: EditText<'a>,
        _plain: bool,
    ) -> BoxFuture<'a, Result<(), SendError>> {
        let markdown = text.markdown;
        Box::pin(async move {
            self.client
                .update_message(
                    &thread.chat,
                    message_id,
                    &first_part(markdown),
                    text.buttons,
                )
                .await
                .map_err(classify)
        })
    }

    fn react<'a>(
        &'a self,
        thread: &'a ThreadRef,
        message_id: &'a str,
        reaction: Reaction,
    ) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            self.client
                .react(&thread.chat, message_id, emoji(reaction))
                .await
                .map_err(classify)
        })
    }
}
