//! Telegram's decisions: the allowlists decide who may ask; prompts go to the agent as typed;
//! turns end the chat way (the status message shows the outcome, the answer follows). Files
//! users send are fetched the Bot API's way: `getFile`, then the download URL it names.

use anyhow::{Context, Result};
use futures_util::StreamExt;
use teloxide::Bot;
use teloxide::net::Download;
use teloxide::prelude::Requester;
use teloxide::types::{CallbackQueryId, FileId};

use super::translate::CALLBACK_QUERY_ID;

use crate::core::access::Access;
use crate::core::policy::Policy;
use crate::domain::admission::{Admission, Refusal};
use crate::domain::inbound::{Inbound, IncomingFile};
use crate::domain::thread::Platform;
use futures_util::future::BoxFuture;

pub struct TelegramPolicy {
    access: Access,
    bot: Bot,
}

impl TelegramPolicy {
    pub fn new(access: Access, bot: Bot) -> TelegramPolicy {
        TelegramPolicy { access, bot }
    }

    async fn download(&self, file: &IncomingFile, max: u64) -> Result<Option<Vec<u8>>> {
        let found = self
            .bot
            .get_file(FileId(file.source.clone()))
            .await
            .context("Telegram would not hand the file over")?;
        if u64::from(found.size) > max {
            return Ok(None);
        }
        let mut data = Vec::with_capacity(found.size as usize);
        let mut chunks = self.bot.download_file_stream(&found.path);
        while let Some(chunk) = chunks.next().await {
            data.extend_from_slice(&chunk.context("downloading from Telegram failed")?);
            if data.len() as u64 > max {
                return Ok(None);
            }
        }
        Ok(Some(data))
    }
}

impl Policy for TelegramPolicy {
    fn platform(&self) -> Platform {
        Platform::Telegram
    }

    fn admit<'a>(&'a self, event: &'a Inbound) -> BoxFuture<'a, Result<Admission>> {
        let admission = if self.access.allows(&event.thread, &event.author) {
            Admission::Allowed
        } else {
            Admission::Refused(Refusal::NotAllowed {
                user_id: event.author.id.clone(),
            })
        };
        Box::pin(async move { Ok(admission) })
    }

    fn answer_press<'a>(&'a self, event: &'a Inbound, text: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let id = event
                .context
                .as_ref()
                .and_then(|c| c[CALLBACK_QUERY_ID].as_str())
                .context("a press without its callback query")?;
            let mut answer = self
                .bot
                .answer_callback_query(CallbackQueryId(id.to_owned()));
            answer.text = Some(text.to_owned());
            answer.await.context("answering a callback query")?;
            Ok(())
        })
    }

    fn fetch<'a>(
        &'a self,
        file: &'a IncomingFile,
        max: u64,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>>> {
        Box::pin(self.download(file, max))
    }
}
