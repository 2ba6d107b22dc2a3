//! The speech-to-text client: audio bytes in, the words spoken out, through an OpenAI-compatible
//! `POST {api_url}/v1/audio/transcriptions` (multipart: `file`, `model`, optional `language`;
//! answered `{"text": …}`).
//!
//! The key goes in the `Authorization` header only: never in a log line or an error, and
//! never on a command line (nothing here runs one). Errors say what went wrong in words a user
//! can act on — the service's status and its own message — without the URL or the key.

use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use reqwest::multipart::{Form, Part};
use serde::Deserialize;

use crate::config::{Secret, TranscriptionConfig};

/// How much of the service's error message is kept for the user.
const ERROR_CHARS: usize = 300;

/// A configured speech-to-text service.
#[derive(Debug, Clone)]
pub struct Transcriber {
    http: reqwest::Client,
    endpoint: String,
    model: String,
    language: Option<String>,
    key: Option<Secret>,
    max_bytes: u64,
}

/// The service's answer.
#[derive(Deserialize)]
struct Answer {
    text: String,
}

impl Transcriber {
    /// The client for `config`, authenticating with `key` when there is one.
    pub fn new(config: &TranscriptionConfig, key: Option<Secret>) -> Result<Transcriber> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .context("building the transcription client")?;
        Ok(Transcriber {
            http,
            endpoint: format!(
                "{}/v1/audio/transcriptions",
                config.api_url.trim_end_matches('/')
            ),
            model: config.model.clone(),
            language: config.language.clone(),
            key,
            max_bytes: config.max_bytes(),
        })
    }

    /// The largest audio file the service is sent.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// The words spoken in `audio` (a file named `name`: the service reads its format from
    /// the extension), trimmed, without NUL characters.
    pub async fn transcribe(&self, name: &str, audio: Vec<u8>) -> Result<String> {
        let mut form = Form::new()
            .part("file", Part::bytes(audio).file_name(name.to_owned()))
            .text("model", self.model.clone())
            .text("response_format", "json");
        if let Some(language) = &self.language {
            form = form.text("language", language.clone());
        }
        let mut request = self.http.post(&self.endpoint).multipart(form);
        if let Some(key) = &self.key {
            request = request.bearer_auth(key.expose());
        }
        let response = request.send().await.map_err(|e| {
            anyhow!(
                "the speech-to-text service did not answer: {}",
                e.without_url()
            )
        })?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| anyhow!("the speech-to-text answer broke off: {}", e.without_url()))?;
        if !status.is_success() {
            bail!(
                "the speech-to-text service answered {status}{}",
                error_message(&body)
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            );
        }
        let answer: Answer = serde_json::from_slice(&body)
            .map_err(|_| anyhow!("the speech-to-text service's answer held no text"))?;
        // A NUL is no word, and no database text column holds one.
        Ok(answer.text.replace('\0', "").trim().to_owned())
    }
}

/// The message of an OpenAI-style error body (`{"error": {"message": …}}`), shortened and
/// without its closing period (the reply it goes into has its own).
fn error_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let message = value["error"]["message"]
        .as_str()
        .or_else(|| value["error"].as_str())?;
    let message = message.trim().trim_end_matches('.');
    Some(message.chars().take(ERROR_CHARS).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_are_read_from_openai_style_bodies() {
        let body = br#"{"error": {"message": "Rate limit reached.", "type": "requests"}}"#;
        assert_eq!(error_message(body).as_deref(), Some("Rate limit reached"));
        assert_eq!(
            error_message(br#"{"error": "overloaded"}"#).as_deref(),
            Some("overloaded")
        );
        assert_eq!(error_message(b"<html>502</html>"), None);
        let long = format!(r#"{{"error": {{"message": "{}"}}}}"#, "x".repeat(1000));
        assert_eq!(error_message(long.as_bytes()).unwrap().len(), ERROR_CHARS);
    }
}
