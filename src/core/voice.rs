//! Voice notes and audio files as prompts: each is fetched from the platform like any file,
//! sent to the speech-to-text service ([`transcription`](super::transcription)), and its
//! transcript becomes the prompt (after the caption, if any) and is echoed in the thread, so
//! the user sees what the agent was asked.
//!
//! The transcript is user text like a typed prompt: it reaches the agent on stdin, never
//! through a shell. Like files, this happens before the prompt is queued: a file over the size
//! limit, a platform that will not hand it over, or a service that fails is told to the user
//! with nothing queued, and they can send it again. Without `[transcription]` the reply says how
//! to turn it on.

use anyhow::Result;

use super::Core;
use super::replies;
use crate::domain::inbound::{FileKind, Inbound};

/// What a message's audio makes: the prompt, and the echo of what was heard (none without audio).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heard {
    pub prompt: String,
    pub echo: Option<String>,
}

/// The prompt for `event` with its audio files transcribed after `caption`, or why not (said to
/// the user).
pub async fn transcribe(
    core: &Core,
    event: &Inbound,
    caption: &str,
) -> Result<std::result::Result<Heard, String>> {
    let mut audio = event.files.iter().filter(|f| f.kind == FileKind::Audio);
    let Some(first) = audio.next() else {
        return Ok(Ok(Heard {
            prompt: caption.to_owned(),
            echo: None,
        }));
    };
    let Some(transcriber) = &core.transcriber else {
        return Ok(Err(replies::transcription_off(&first.name)));
    };
    let limit = core.defaults.max_file_bytes().min(transcriber.max_bytes());
    let policy = core.policy(event.platform())?;
    let mut transcripts = Vec::new();
    for file in std::iter::once(first).chain(audio) {
        if file.size.is_some_and(|size| size > limit) {
            return Ok(Err(replies::file_too_large(&file.name, limit)));
        }
        let data = match policy.fetch(file, limit).await {
            Ok(Some(data)) => data,
            Ok(None) => return Ok(Err(replies::file_too_large(&file.name, limit))),
            Err(e) => {
                tracing::warn!(file = %file.name, "fetching a user's audio failed: {e:#}");
                let reason = format!("{e:#}");
                return Ok(Err(replies::file_not_fetched(&file.name, &reason)));
            }
        };
        match transcriber.transcribe(&file.name, data).await {
            Ok(text) if text.is_empty() => {
                return Ok(Err(replies::nothing_heard(&file.name)));
            }
            Ok(text) => transcripts.push(text),
            Err(e) => {
                tracing::warn!(file = %file.name, "transcribing a user's audio failed: {e:#}");
                let reason = format!("{e:#}");
                return Ok(Err(replies::not_transcribed(&file.name, &reason)));
            }
        }
    }
    let transcript = transcripts.join("\n\n");
    let prompt = if caption.trim().is_empty() {
        transcript.clone()
    } else {
        format!("{caption}\n\n{transcript}")
    };
    Ok(Ok(Heard {
        prompt,
        echo: Some(replies::transcript_echo(&transcript)),
    }))
}
