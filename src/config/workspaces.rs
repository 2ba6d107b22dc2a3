//! The `[workspaces]` section: how sessions' own directories are named, made and kept.
//!
//! Every session works in a directory of its own on its host (`core::placement`): a worktree of
//! its project's shared clone on a branch `<branch_prefix><session tag>`, or a scratch directory
//! without a project. A scratch directory is made a git repository (one empty commit) so its
//! turns' changes are shown like a project's; `scratch_git = false` leaves it a plain folder.
//! A session idle for `keep_for` loses its workspace (`core::cleanup`).

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Result, bail};
use serde::Deserialize;

use super::duration;
use crate::domain::thread::Platform;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Workspaces {
    /// The start of each session's branch name, and of a GitHub issue's (`issue-N` after it).
    /// Default `switchboard/`.
    #[serde(default = "default_branch_prefix")]
    pub branch_prefix: String,
    /// How long a retired or idle session's workspace is kept before it is removed (its last
    /// turn's end, or its creation, that long ago and no turn under way). Default `7d`; at
    /// least a second, so that tests can watch the clean-up happen (anything under a few hours
    /// removes workspaces between a conversation's prompts; a later prompt makes its workspace
    /// again, fresh). The clean-up looks every quarter of it, at least once a minute.
    #[serde(default = "default_keep_for", with = "duration")]
    pub keep_for: Duration,
    /// Make a session's scratch directory (no project) a git repository. Default true.
    #[serde(default = "default_scratch_git")]
    pub scratch_git: bool,
    /// How long after `/pr` pushes a commit its CI checks are first read, when no webhook says
    /// they ended; the wait doubles with each read that finds them still running (up to five
    /// minutes). Default `15s`.
    #[serde(default = "default_checks_poll", with = "duration")]
    pub checks_poll: Duration,
    /// Who people are in git: `"platform:id" = "Name <email>"` (e.g. `"telegram:1001" = "Alice
    /// Example <alice@example.com>"`), the author of the commits made for them. Default: none;
    /// then a person is their chat name and `id@platform.invalid`.
    #[serde(default)]
    pub authors: BTreeMap<String, String>,
}

fn default_branch_prefix() -> String {
    "switchboard/".to_owned()
}

fn default_keep_for() -> Duration {
    Duration::from_secs(7 * 24 * 3600)
}

fn default_scratch_git() -> bool {
    true
}

fn default_checks_poll() -> Duration {
    Duration::from_secs(15)
}

impl Default for Workspaces {
    fn default() -> Self {
        Workspaces {
            branch_prefix: default_branch_prefix(),
            keep_for: default_keep_for(),
            scratch_git: default_scratch_git(),
            checks_poll: default_checks_poll(),
            authors: BTreeMap::new(),
        }
    }
}

/// `Name <email>` split in two; `None` when it is not that.
fn name_and_email(text: &str) -> Option<(String, String)> {
    let (name, rest) = text.trim().split_once('<')?;
    let email = rest.strip_suffix('>')?;
    let name = name.trim();
    let fine = |s: &str| !s.is_empty() && !s.contains(['<', '>', '\n', '\r', '\0']);
    (fine(name) && fine(email) && email.contains('@') && !email.contains(char::is_whitespace))
        .then(|| (name.to_owned(), email.to_owned()))
}

impl Workspaces {
    /// The git identity configured for a person of `platform` (`authors`), if any.
    pub fn author(&self, platform: Platform, id: &str) -> Option<(String, String)> {
        self.authors
            .get(&format!("{platform}:{id}"))
            .and_then(|text| name_and_email(text))
    }

    /// How often the clean-up looks for workspaces due: a quarter of `keep_for`, at least once
    /// a minute.
    pub fn sweep_every(&self) -> Duration {
        (self.keep_for / 4).min(Duration::from_secs(60))
    }

    pub(super) fn validate(&self) -> Result<()> {
        for (person, author) in &self.authors {
            let known = person.split_once(':').is_some_and(|(platform, id)| {
                platform.parse::<Platform>().is_ok() && !id.is_empty()
            });
            if !known {
                bail!(
                    "workspaces.authors: {person:?} is not \"platform:id\" (telegram, slack, \
                     discord, github or web, then the person's id there)"
                );
            }
            if name_and_email(author).is_none() {
                bail!("workspaces.authors.{person:?}: {author:?} is not \"Name <email>\"");
            }
        }
        let prefix = &self.branch_prefix;
        let fine = prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
        if prefix.is_empty()
            || prefix.len() > 60
            || !fine
            || prefix.starts_with(['-', '/', '.'])
            || prefix.contains("..")
            || prefix.contains("//")
        {
            bail!(
                "workspaces.branch_prefix {prefix:?} must be 1 to 60 letters, digits, '-', '_', \
                 '.' or '/', not starting with '-', '/' or '.' (it starts branch names)"
            );
        }
        if self.keep_for < Duration::from_secs(1) {
            bail!("workspaces.keep_for must be at least a second");
        }
        if self.checks_poll.is_zero() || self.checks_poll > Duration::from_secs(300) {
            bail!("workspaces.checks_poll must be more than nothing and at most 5 minutes");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_prefixes_start_branch_names_git_takes() {
        Workspaces::default().validate().unwrap();
        for ok in ["sb/", "bots/switchboard-", "x"] {
            let w = Workspaces {
                branch_prefix: ok.into(),
                ..Workspaces::default()
            };
            w.validate().unwrap();
        }
        for bad in ["", "-x/", "/x", "a..b", "a b/", "a//", "$(x)/", ".x"] {
            let w = Workspaces {
                branch_prefix: bad.into(),
                ..Workspaces::default()
            };
            let err = w.validate().unwrap_err().to_string();
            assert!(err.contains("workspaces.branch_prefix"), "{bad:?}: {err}");
        }
        let mapped = Workspaces {
            authors: BTreeMap::from([(
                "telegram:1001".to_owned(),
                "Alice Example <alice@example.com>".to_owned(),
            )]),
            ..Workspaces::default()
        };
        mapped.validate().unwrap();
        assert_eq!(
            mapped.author(Platform::Telegram, "1001"),
            Some(("Alice Example".to_owned(), "alice@example.com".to_owned()))
        );
        assert_eq!(mapped.author(Platform::Slack, "1001"), None);
        for (person, author, expected) in [
            ("tg:1", "A <a@b>", "is not \"platform:id\""),
            ("telegram:", "A <a@b>", "is not \"platform:id\""),
            ("telegram:1", "A", "is not \"Name <email>\""),
            ("telegram:1", "<a@b>", "is not \"Name <email>\""),
            ("telegram:1", "A <a b@c>", "is not \"Name <email>\""),
            ("telegram:1", "A\nB <a@b>", "is not \"Name <email>\""),
        ] {
            let w = Workspaces {
                authors: BTreeMap::from([(person.to_owned(), author.to_owned())]),
                ..Workspaces::default()
            };
            let err = w.validate().unwrap_err().to_string();
            assert!(err.contains(expected), "{person} {author}: {err}");
        }
        let short = Workspaces {
            keep_for: Duration::from_millis(500),
            ..Workspaces::default()
        };
        assert!(short.validate().is_err());
        for poll in [Duration::ZERO, Duration::from_secs(301)] {
            let w = Workspaces {
                checks_poll: poll,
                ..Workspaces::default()
            };
            let err = w.validate().unwrap_err().to_string();
            assert!(err.contains("workspaces.checks_poll"), "{poll:?}: {err}");
        }
    }
}
