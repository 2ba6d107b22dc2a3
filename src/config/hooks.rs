//! `[hooks.NAME]`: inbound webhook triggers (`POST /hooks/NAME`, `bots::hooks`). Each has its
//! own secret (a file, like the other secrets: never in the config itself), the thread its
//! prompt is queued into, and the prompt's template.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Result, bail};
use serde::Deserialize;

use super::{Secret, read_secret_file};
use crate::domain::thread::{Platform, ThreadRef};

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HookConfig {
    /// A file holding the HMAC-SHA256 secret the sender signs the body with.
    pub secret_file: PathBuf,
    pub platform: Platform,
    pub chat: String,
    #[serde(default)]
    pub topic: Option<String>,
    /// The prompt; `{{field}}` / `{{a.b}}` are filled from the JSON body.
    pub prompt: String,
}

impl HookConfig {
    pub fn thread(&self) -> ThreadRef {
        ThreadRef {
            platform: self.platform,
            chat: self.chat.clone(),
            topic: self.topic.clone(),
        }
    }
}

pub(super) fn validate(hooks: &BTreeMap<String, HookConfig>) -> Result<()> {
    for (name, hook) in hooks {
        let fine = name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
        if name.is_empty() || name.len() > 40 || !fine {
            bail!("hooks: the name {name:?} must be 1 to 40 letters, digits, '-' or '_'");
        }
        if hook.platform == Platform::GitHub {
            bail!("hooks.{name}.platform: use telegram, slack, discord or web");
        }
        if hook.prompt.trim().is_empty() || hook.prompt.contains('\0') || hook.chat.is_empty() {
            bail!("hooks.{name}: chat and prompt must be text (not empty, no NUL)");
        }
    }
    Ok(())
}

/// Each hook's secret, by name.
pub(super) fn resolve_secrets(
    hooks: &BTreeMap<String, HookConfig>,
) -> Result<BTreeMap<String, Secret>> {
    hooks
        .iter()
        .map(|(name, hook)| {
            let key = format!("hooks.{name}.secret_file");
            Ok((name.clone(), read_secret_file(&hook.secret_file, &key)?))
        })
        .collect()
}
