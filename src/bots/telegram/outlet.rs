//! Sending to Telegram: Markdown rendered to Telegram HTML, split at 4,096 characters, a plain
//! text fallback when Telegram rejects the markup, very long answers as a `.md` document.

use teloxide::RequestError;
use teloxide::prelude::*;
use teloxide::types::{
    ChatId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, LinkPreviewOptions, MessageId,
    ParseMode, ReplyMarkup, ReplyParameters, ThreadId,
};

use crate::bots::outlet::{EditText, Outlet, OutletPart, PartId, PostFiles, SendError, post_parts};
use crate::core::replies;
use crate::domain::controls::Button;
use crate::domain::outbound::{Attachment, Post};
use crate::domain::outbox_key::OutboxKey;
use crate::domain::thread::{Platform, ThreadRef};
use crate::render::telegram::{MESSAGE_LIMIT, render};
use futures_util::future::BoxFuture;

/// One Telegram message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TelegramPart {
    Html {
        html: String,
        plain: String,
    },
    Plain(String),
    Document(Attachment),
    /// An image, shown in the chat.
    Photo(Attachment),
}

impl OutletPart for TelegramPart {
    fn plain(&self) -> Option<TelegramPart> {
        match self {
            TelegramPart::Html { plain, .. } => Some(TelegramPart::Plain(plain.clone())),
            _ => None,
        }
    }
}

pub struct TelegramOutlet {
    bot: Bot,
}

impl TelegramOutlet {
    pub fn new(bot: Bot) -> TelegramOutlet {
        TelegramOutlet { bot }
    }
}

fn chat_id(thread: &ThreadRef) -> Result<ChatId, SendError> {
    thread
        .chat
        .parse()
        .map(ChatId)
        .map_err(|_| SendError::Rejected(format!("not a Telegram chat id: {}", thread.chat)))
}

fn topic(thread: &ThreadRef) -> Option<ThreadId> {
    thread
        .topic
        .as_deref()
        .and_then(|t| t.parse().ok())
        .map(|id| ThreadId(MessageId(id)))
}

fn reply_parameters(post: &Post) -> Option<ReplyParameters> {
    let id = post.reply_to.as_deref()?.parse().ok()?;
    Some(ReplyParameters {
        allow_sending_without_reply: Some(true),
        ..ReplyParameters::new(MessageId(id))
    })
}

fn no_preview() -> LinkPreviewOptions {
    LinkPreviewOptions {
        is_disabled: true,
        url: None,
        prefer_small_media: false,
        prefer_large_media: false,
        show_above_text: false,
    }
}

/// Buttons as an inline keyboard, one row; `None` for none. Each button's `callback_data` is its
/// action's id ([`crate::domain::controls::ButtonAction::encode`], within Telegram's 64 bytes).
fn keyboard(buttons: &[Button]) -> Option<InlineKeyboardMarkup> {
    (!buttons.is_empty()).then(|| {
        let row = buttons
            .iter()
            .map(|b| InlineKeyboardButton::callback(b.label.clone(), b.action.encode()))
            .collect::<Vec<_>>();
        InlineKeyboardMarkup::new(vec![row])
    })
}

/// The reason phrases of the server errors a Bot API answer may carry as its description
/// (teloxide keeps the description, not the status): the server's trouble, worth a retry.
const SERVER_ERRORS: [&str; 4] = [
    "Internal Server Error",
    "Bad Gateway",
    "Service Unavailable",
    "Gateway Timeout",
];

/// Maps teloxide's errors onto what the scheduler does about them.
fn classify(error: RequestError) -> SendError {
    use teloxide::ApiError;
    match error {
        RequestError::RetryAfter(wait) => SendError::RetryAfter(wait.duration()),
        RequestError::Api(ApiError::CantParseEntities(reason)) => SendError::Markup(reason),
        RequestError::Api(ApiError::Unknown(reason))
            if SERVER_ERRORS.iter().any(|phrase| reason.contains(phrase)) =>
        {
            SendError::Transient(reason)
        }
        RequestError::Api(api) => SendError::Rejected(api.to_string()),
        RequestError::MigrateToChatId(to) => {
            SendError::Rejected(format!("the group became the supergroup {to}"))
        }
        other => SendError::Transient(other.to_string()),
    }
}

impl Outlet for TelegramOutlet {
    type Part = TelegramPart;

    fn platform(&self) -> Platform {
        Platform::Telegram
    }

    fn is_group(&self, chat: &str) -> bool {
        chat.starts_with('-')
    }

    fn parts(&self, post: &Post) -> Vec<TelegramPart> {
        let rendered = render(&post.markdown, MESSAGE_LIMIT)
            .into_iter()
            .map(|p| TelegramPart::Html {
                html: p.html,
                plain: p.plain,
            })
            .collect();
        post_parts(
            rendered,
            post,
            || TelegramPart::Plain(replies::empty_message()),
            |file| match file.image {
                true => TelegramPart::Photo(file),
                false => TelegramPart::Document(file),
            },
        )
    }

    fn send<'a>(
        &'a self,
        thread: &'a ThreadRef,
        id: PartId<'a>,
        part: &'a TelegramPart,
        post: &'a Post,
        files: PostFiles<'a>,
    ) -> BoxFuture<'a, Result<String, SendError>> {
        Box::pin(async move {
            let chat = chat_id(thread)?;
            let sent = match part {
                TelegramPart::Html { html: text, .. } | TelegramPart::Plain(text) => {
                    let mut req = self
                        .bot
                        .send_message(chat, text)
                        .link_preview_options(no_preview())
                        .disable_notification(post.silent);
                    if matches!(part, TelegramPart::Html { .. }) {
                        req = req.parse_mode(ParseMode::Html);
                    }
                    req.message_thread_id = topic(thread);
                    req.reply_parameters = reply_parameters(post);
                    // The buttons go under the first message, the one later edits change.
                    if id.index == 0 {
                        req.reply_markup = keyboard(&post.buttons).map(ReplyMarkup::InlineKeyboard);
                    }
                    req.await
                }
                TelegramPart::Document(attachment) | TelegramPart::Photo(attachment) => {
                    let content = files.read(attachment).await?;
                    let file = InputFile::memory(content).file_name(attachment.name.clone());
                    // The two requests are different types with the same setters.
                    macro_rules! send_file {
                        ($method:ident) => {{
                            let mut req = self
                                .bot
                                .$method(chat, file)
                                .caption(&attachment.caption)
                                .disable_notification(post.silent);
                            req.message_thread_id = topic(thread);
                            req.reply_parameters = reply_parameters(post);
                            req.await
                        }};
                    }
                    match part {
                        TelegramPart::Photo { .. } => send_file!(send_photo),
                        _ => send_file!(send_document),
                    }
                }
            };
            sent.map(|message| message.id.0.to_string())
                .map_err(classify)
        })
    }

    fn edit<'a>(
        &'a self,
        thread: &'a ThreadRef,
        _target: &'a OutboxKey,
        message_id: &'a str,
        text: EditText<'a>,
        plain: bool,
    ) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            let markdown = text.markdown;
            let chat = chat_id(thread)?;
            let id = message_id
                .parse()
                .map(MessageId)
                .map_err(|_| SendError::Rejected(format!("not a message id: {message_id}")))?;
            let part = render(markdown, MESSAGE_LIMIT).into_iter().next();
            let (shown, plain_text) = match part {
                Some(p) => (p.html, p.plain),
                None => (replies::empty_message(), replies::empty_message()),
            };
            let mut req = if plain {
                self.bot.edit_message_text(chat, id, plain_text)
            } else {
                self.bot
                    .edit_message_text(chat, id, shown)
                    .parse_mode(ParseMode::Html)
            };
            // Without a keyboard, Telegram removes the message's buttons.
            req.reply_markup = keyboard(text.buttons);
            match req.link_preview_options(no_preview()).await {
                Ok(_) | Err(RequestError::Api(teloxide::ApiError::MessageNotModified)) => Ok(()),
                Err(e) => Err(classify(e)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outlet() -> TelegramOutlet {
        TelegramOutlet::new(Bot::new("1:x"))
    }

    #[test]
    fn short_posts_are_messages_and_long_ones_add_a_document() {
        let post = Post::text("hello **world**").document_name("answer-1");
        let parts = outlet().parts(&post);
        assert_eq!(parts.len(), 1);
        assert!(
            matches!(&parts[0], TelegramPart::Html { html, .. } if html == "hello <b>world</b>")
        );

        let long = "paragraph of text. ".repeat(200) + "\n\n";
        let post = Post::text(long.repeat(4)).document_name("answer-1");
        let parts = outlet().parts(&post);
        assert_eq!(parts.len(), 2);
        assert!(matches!(&parts[1], TelegramPart::Document(file)
            if file.name == "answer-1.md" && file.bytes() == Some(post.markdown.as_bytes())));
        assert!(parts[0].plain().is_some() && parts[1].plain().is_none());
    }

    /// Every server error is retried, not only the two seen most; a refusal is final.
    #[test]
    fn server_errors_are_transient_and_refusals_final() {
        use teloxide::ApiError;
        for phrase in SERVER_ERRORS {
            let error = RequestError::Api(ApiError::Unknown(phrase.to_owned()));
            assert!(
                matches!(classify(error), SendError::Transient(_)),
                "{phrase}"
            );
        }
        let refused = RequestError::Api(ApiError::Unknown("Bad Request: chat not found".into()));
        assert!(matches!(classify(refused), SendError::Rejected(_)));
    }

    #[test]
    fn groups_have_negative_ids() {
        assert!(outlet().is_group("-1001"));
        assert!(!outlet().is_group("5"));
    }
}
