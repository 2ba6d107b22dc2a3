//! The `[transcription]` section: the speech-to-text service that turns voice notes and audio
//! files into prompts.
//!
//! Any OpenAI-compatible endpoint works (`POST {api_url}/v1/audio/transcriptions`): OpenAI's
//! own, or a self-hosted Whisper server. Without the section, voice is refused with a reply
//! that says how to turn it on. The key, like every secret, never lives in the TOML: it comes
//! from `api_key_file` or `TRANSCRIPTION_API_KEY` (a local server may need none).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use serde::Deserialize;

use super::{Env, Secret, duration, read_secret_file};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranscriptionConfig {
    /// The service's base URL, e.g. `https://api.openai.com`.
    pub api_url: String,
    /// The model asked for. Default `whisper-1`.
    #[serde(default = "default_model")]
    pub model: String,
    /// The spoken language (ISO-639-1, `en`), when known. Default: the service guesses.
    #[serde(default)]
    pub language: Option<String>,
    /// File holding the API key. Default: none; `TRANSCRIPTION_API_KEY` is used if set.
    #[serde(default)]
    pub api_key_file: Option<PathBuf>,
    /// The largest audio file (in MB) sent to the service; `defaults.max_file_mb` caps it too.
    /// Default 25 (OpenAI's limit).
    #[serde(default = "default_max_mb")]
    pub max_mb: u32,
    /// How long one transcription may take. Default `60s`.
    #[serde(default = "default_timeout", with = "duration")]
    pub timeout: Duration,
}

fn default_model() -> String {
    "whisper-1".to_owned()
}

fn default_max_mb() -> u32 {
    25
}

fn default_timeout() -> Duration {
    Duration::from_secs(60)
}

impl TranscriptionConfig {
    /// [`TranscriptionConfig::max_mb`] in bytes.
    pub fn max_bytes(&self) -> u64 {
        u64::from(self.max_mb) * 1024 * 1024
    }

    pub(super) fn validate(&self) -> Result<()> {
        if url::Url::parse(&self.api_url)
            .map_or(true, |url| !matches!(url.scheme(), "http" | "https"))
        {
            bail!(
                "transcription.api_url must be an http(s) URL, such as \"https://api.openai.com\" \
                 (got {:?})",
                self.api_url
            );
        }
        if self.model.trim().is_empty() {
            bail!("transcription.model must not be empty (OpenAI's is \"whisper-1\")");
        }
        if self.max_mb == 0 || self.timeout.is_zero() {
            bail!("transcription.max_mb and transcription.timeout must be greater than zero");
        }
        Ok(())
    }

    /// The API key: from `api_key_file`, else `TRANSCRIPTION_API_KEY`, else none.
    pub(super) fn resolve_key(&self, env: &Env) -> Result<Option<Secret>> {
        Ok(match &self.api_key_file {
            Some(path) => Some(read_secret_file(path, "transcription.api_key_file")?),
            None => env.get("TRANSCRIPTION_API_KEY").map(Secret::new),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> TranscriptionConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn defaults_keys_and_rules() {
        let config = parse("api_url = \"https://api.openai.com\"");
        assert_eq!(config.model, "whisper-1");
        assert_eq!(config.max_bytes(), 25 * 1024 * 1024);
        assert_eq!(config.timeout, Duration::from_secs(60));
        config.validate().unwrap();
        let env = Env::from_pairs([("TRANSCRIPTION_API_KEY", "sk-env")]);
        assert_eq!(
            config.resolve_key(&env).unwrap(),
            Some(Secret::new("sk-env"))
        );
        assert_eq!(config.resolve_key(&Env::default()).unwrap(), None);

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key");
        std::fs::write(&file, "sk-file\n").unwrap();
        let config = parse(&format!(
            "api_url = \"http://127.0.0.1:9000\"\napi_key_file = {:?}",
            file.display().to_string()
        ));
        assert_eq!(
            config.resolve_key(&env).unwrap(),
            Some(Secret::new("sk-file"))
        );

        let wrong = parse("api_url = \"ftp://example.com\"")
            .validate()
            .unwrap_err();
        assert!(wrong.to_string().contains("http(s) URL"), "{wrong}");
        let zero = parse("api_url = \"https://x.example\"\nmax_mb = 0").validate();
        assert!(zero.is_err());
    }
}
