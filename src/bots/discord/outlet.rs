//! Sending to Discord: Markdown rendered to Discord's and split at 2,000 characters on
//! boundaries, posted into the thread (created from the request's message the first time), the
//! status message edited in place, very long answers sent as a `.md` attachment, reactions on
//! the user's message. Nothing the bot posts pings anyone (`allowed_mentions: {parse: []}`, on
//! top of the renderer defusing mentions).
//!
//! Where things go, from the platform-neutral thread `{chat, topic}`: messages into the topic
//! (a thread's channel) or else the chat (a DM, a channel's top level); a reaction to the
//! thread's starting message into the chat (that message lives in the parent channel), any
//! other reaction into the topic. A reply to the starting message is no reply at all — the
//! thread hangs under it already, and Discord refuses replies across channels.
//!
//! A slash command's answer goes through its interaction: the first part fills the deferred
//! response (`PATCH …/messages/@original`, which repeats harmlessly after a crash), later
//! parts are follow-ups. It waits for the acknowledgement to be out first. Once the
//! interaction's token is dead (after fifteen minutes, or never acknowledged because the bot
//! died in between) the answer is posted in the channel instead.

use std::sync::Arc;

use super::client::{DiscordClient, DiscordError, FileUpload, THREAD_ALREADY_CREATED};
use super::shared::Shared;
use super::translate::{DiscordMe, InteractionRef};
use super::typing::Typing;
use crate::bots::outlet::{
    EditText, MarkupPart, Outlet, PartId, PostFiles, SendError, markup_parts,
};
use crate::core::replies;
use crate::domain::controls::Button;
use crate::domain::outbound::{Post, Reaction};
use crate::domain::outbox_key::OutboxKey;
use crate::domain::thread::{Platform, ThreadRef};
use crate::render::discord::{MESSAGE_LIMIT, render};
use futures_util::future::BoxFuture;

pub struct DiscordOutlet {
    client: Arc<DiscordClient>,
    shared: Arc<Shared>,
    me: DiscordMe,
    typing: Arc<Typing>,
}

impl DiscordOutlet {
    pub fn new(
        client: Arc<DiscordClient>,
        shared: Arc<Shared>,
        me: DiscordMe,
        typing: Arc<Typing>,
    ) -> DiscordOutlet {
        DiscordOutlet {
            client,
            shared,
            me,
            typing,
        }
    }

    /// Starts the thread of a request's message if it does not exist yet. Discord refuses a
    /// second thread for one message (160004): then it exists. Any other refusal (the topic is
    /// a thread that was not started from a message, say) leaves the posting to tell.
    async fn ensure_thread(&self, thread: &ThreadRef) -> Result<(), SendError> {
        let Some(topic) = &thread.topic else {
            return Ok(());
        };
        if self.shared.is_known_thread(topic) {
            return Ok(());
        }
        let name = self
            .shared
            .thread_name(topic)
            .unwrap_or_else(|| "Switchboard".to_owned());
        match self.client.start_thread(&thread.chat, topic, &name).await {
            Ok(()) => {}
            Err(e) if e.code() == Some(THREAD_ALREADY_CREATED) => {}
            Err(e) if e.is_transient() => return Err(classify(e)),
            Err(e) => tracing::warn!(thread = topic, "starting a thread: {e}"),
        }
        self.shared.thread_started(&thread.chat, topic);
        Ok(())
    }

    /// Creates the part's message in the thread, with the part's nonce.
    async fn post(
        &self,
        thread: &ThreadRef,
        id: PartId<'_>,
        message: &Message<'_>,
        reply_to: Option<&str>,
    ) -> Result<String, DiscordError> {
        let channel = channel_of(thread);
        let nonce = id.nonce();
        self.client
            .create_message(
                channel,
                message.content,
                reply_to,
                message.file.clone(),
                message.buttons,
                &nonce,
            )
            .await
    }

    /// Answers a slash command through its interaction.
    async fn answer(
        &self,
        thread: &ThreadRef,
        interaction: InteractionRef<'_>,
        id: PartId<'_>,
        part: &MarkupPart,
        message: &Message<'_>,
        post: &Post,
    ) -> Result<String, SendError> {
        self.shared.wait_for_ack(interaction.id).await;
        let first = self.parts(post).first() == Some(part);
        let app = &self.me.application_id;
        let token = interaction.token;
        let (content, file) = (message.content, message.file.clone());
        let sent = if first {
            self.client.edit_original(app, token, content, file).await
        } else {
            self.client.followup(app, token, content, file).await
        };
        match sent {
            Ok(id) => Ok(id),
            // The token is dead or was never acknowledged: say it in the channel.
            Err(DiscordError::Api {
                status: 401 | 404, ..
            }) => {
                tracing::info!(
                    interaction = interaction.id,
                    "the interaction can no longer be answered; posting in the channel"
                );
                self.ensure_thread(thread).await?;
                self.post(thread, id, message, None).await.map_err(classify)
            }
            Err(e) => Err(classify(e)),
        }
    }
}

/// A part as Discord takes it: the message's text, and the file it carries, read from the store.
struct Message<'a> {
    content: &'a str,
    file: Option<FileUpload<'a>>,
    /// Under the post's first message, the one later edits change.
    buttons: &'a [Button],
}

/// The channel a thread's messages go to.
fn channel_of(thread: &ThreadRef) -> &str {
    thread.topic.as_deref().unwrap_or(&thread.chat)
}

/// The emoji each reaction is on Discord.
fn emoji(reaction: Reaction) -> &'static str {
    match reaction {
        Reaction::Eyes => "👀",
        Reaction::Done => "✅",
        Reaction::Failed => "❌",
    }
}

/// Maps Discord's errors onto what the scheduler does about them.
fn classify(error: DiscordError) -> SendError {
    match error {
        DiscordError::RateLimited {
            retry_after,
            global: true,
        } => SendError::RetryAfterEverywhere(retry_after),
        DiscordError::RateLimited { retry_after, .. } => SendError::RetryAfter(retry_after),
        e @ DiscordError::Network(_) => SendError::Transient(e.to_string()),
        e @ DiscordError::Api { .. } => SendError::Rejected(e.to_string()),
    }
}

/// The first rendered part of a text, for an edit (the status message is always short).
fn first_part(markdown: &str) -> String {
    render(markdown, MESSAGE_LIMIT)
        .into_iter()
        .next()
        .map(|p| p.content)
        .unwrap_or_else(replies::empty_message)
}

impl Outlet for DiscordOutlet {
    type Part = MarkupPart;

    fn platform(&self) -> Platform {
        Platform::Discord
    }

    /// Discord's limits are per channel and global, not per kind of chat.
    fn is_group(&self, _chat: &str) -> bool {
        false
    }

    fn parts(&self, post: &Post) -> Vec<MarkupPart> {
        let rendered = render(&post.markdown, MESSAGE_LIMIT)
            .into_iter()
            .map(|p| p.content)
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
            let read;
            let message = match part {
                MarkupPart::Text(text) => Message {
                    content: text,
                    file: None,
                    buttons: if id.index == 0 { &post.buttons } else { &[] },
                },
                MarkupPart::File(file) => {
                    read = files.read(file).await?;
                    Message {
                        content: &file.caption,
                        file: Some(FileUpload {
                            name: &file.name,
                            content: &read,
                        }),
                        buttons: &[],
                    }
                }
            };
            if let Some(interaction) = post.reply_to.as_deref().and_then(InteractionRef::parse) {
                return self
                    .answer(thread, interaction, id, part, &message, post)
                    .await;
            }
            self.ensure_thread(thread).await?;
            let reply_to = post
                .reply_to
                .as_deref()
                .filter(|r| Some(*r) != thread.topic.as_deref());
            let message = self
                .post(thread, id, &message, reply_to)
                .await
                .map_err(classify)?;
            let channel = channel_of(thread);
            match id.key {
                OutboxKey::Status(turn) => self.typing.working(channel, turn.as_str()),
                OutboxKey::Result(turn) => self.typing.done(channel, turn.as_str()),
                _ => {}
            }
            Ok(message)
        })
    }

    fn edit<'a>(
        &'a self,
        thread: &'a ThreadRef,
        target: &'a OutboxKey,
        message_id: &'a str,
        text: EditText<'a>,
        _plain: bool,
    ) -> BoxFuture<'a, Result<(), SendError>> {
        let markdown = text.markdown;
        Box::pin(async move {
            let channel = channel_of(thread);
            self.client
                .edit_message(channel, message_id, &first_part(markdown), text.buttons)
                .await
                .map_err(classify)?;
            if let OutboxKey::Status(turn) = target {
                self.typing.working(channel, turn.as_str());
            }
            Ok(())
        })
    }

    fn react<'a>(
        &'a self,
        thread: &'a ThreadRef,
        message_id: &'a str,
        reaction: Reaction,
    ) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            if InteractionRef::parse(message_id).is_some() {
                return Ok(());
            }
            // The thread's starting message is in the parent channel.
            let channel = if thread.topic.as_deref() == Some(message_id) {
                thread.chat.as_str()
            } else {
                channel_of(thread)
            };
            self.client
                .react(channel, message_id, emoji(reaction))
                .await
                .map_err(classify)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bots::outlet::MAX_MESSAGES;
    use crate::config::Secret;
    use crate::domain::ids::TurnId;

    fn outlet() -> DiscordOutlet {
        DiscordOutlet::new(
            Arc::new(DiscordClient::new("http://127.0.0.1:9", Secret::new("t")).unwrap()),
            Arc::default(),
            DiscordMe {
                user_id: "900".into(),
                application_id: "900".into(),
                allowed_bots: vec![],
            },
            Arc::default(),
        )
    }

    #[test]
    fn answers_split_at_2000_and_long_ones_become_a_file() {
        let outlet = outlet();
        let paragraph = "word ".repeat(300);
        let three = [paragraph.trim(); 3].join("\n\n");
        let parts = outlet.parts(&Post::text(three.clone()));
        assert!(
            parts.len() > 1 && parts.len() <= MAX_MESSAGES,
            "{}",
            parts.len()
        );
        for part in &parts {
            let MarkupPart::Text(text) = part else {
                panic!("{part:?}")
            };
            assert!(text.chars().count() <= 2000);
        }
        let long = [paragraph.trim(); 20].join("\n\n");
        let parts = outlet.parts(&Post::text(long.clone()).document_name("answer-1"));
        assert_eq!(parts.len(), 2);
        match &parts[1] {
            MarkupPart::File(file) => {
                assert_eq!(file.name, "answer-1.md");
                assert_eq!(file.bytes(), Some(long.as_bytes()));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            outlet.parts(&Post::text("  ")),
            vec![MarkupPart::Text(replies::empty_message())]
        );
    }

    #[test]
    fn rate_limits_map_onto_the_scheduler() {
        let wait = std::time::Duration::from_millis(1500);
        assert_eq!(
            classify(DiscordError::RateLimited {
                retry_after: wait,
                global: true
            }),
            SendError::RetryAfterEverywhere(wait)
        );
        assert_eq!(
            classify(DiscordError::RateLimited {
                retry_after: wait,
                global: false
            }),
            SendError::RetryAfter(wait)
        );
        assert!(matches!(
            classify(DiscordError::Network("x".into())),
            SendError::Transient(_)
        ));
        assert!(matches!(
            classify(DiscordError::Api {
                status: 403,
                code: 50001,
                message: "Missing Access".into()
            }),
            SendError::Rejected(_)
        ));
    }

    #[test]
    fn messages_go_to_the_thread_and_results_are_recognised() {
        let thread = ThreadRef {
            platform: Platform::Discord,
            chat: "20".into(),
            topic: Some("500".into()),
        };
        assert_eq!(channel_of(&thread), "500");
        let dm = ThreadRef {
            topic: None,
            ..thread
        };
        assert_eq!(channel_of(&dm), "20");
        let abc = TurnId::from_string("abc".into());
        assert_eq!(
            "turn:abc:result".parse(),
            Ok(OutboxKey::Result(abc.clone()))
        );
        assert_ne!(
            "turn:abc:status".parse(),
            Ok(OutboxKey::Result(abc.clone()))
        );
        assert_ne!("in:abc:reply".parse(), Ok(OutboxKey::Result(abc)));
    }
}
