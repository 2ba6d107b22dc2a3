//! What someone may do in a repository, as GitHub's collaborator permission endpoint
//! (`GET /repos/{repo}/collaborators/{login}/permission`) answers it.
//!
//! The answer's `permission` folds every role into `admin`, `write`, `read` or `none` (maintain
//! is written `write`, triage `read`, a custom role its base role); the role itself is in
//! `role_name`. Admission decides on the folded level, so that is what [`Permission`] holds; a
//! `maintain` role counts as `write` whatever `permission` says, and an answer without a
//! `permission` is `none`. A level GitHub may add later is kept as it was written, and grants
//! nothing.

use std::fmt;

use serde::Deserialize;

/// Someone's access level on a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Permission {
    Admin,
    Write,
    Read,
    None,
    /// A level this code does not know, as GitHub wrote it.
    Other(String),
}

impl Permission {
    /// Whether the level lets someone push, and so have the bot work on the repository.
    pub fn can_write(&self) -> bool {
        matches!(self, Permission::Admin | Permission::Write)
    }

    /// The level as GitHub writes it (what the audit shows of a refusal).
    pub fn as_str(&self) -> &str {
        match self {
            Permission::Admin => "admin",
            Permission::Write => "write",
            Permission::Read => "read",
            Permission::None => "none",
            Permission::Other(level) => level,
        }
    }

    fn parse(level: &str) -> Permission {
        match level {
            "admin" => Permission::Admin,
            "write" => Permission::Write,
            "read" => Permission::Read,
            "none" => Permission::None,
            other => Permission::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The endpoint's answer: only the two fields admission reads.
#[derive(Debug, Deserialize)]
pub(super) struct CollaboratorPermission {
    #[serde(default)]
    permission: Option<String>,
    #[serde(default)]
    role_name: Option<String>,
}

impl CollaboratorPermission {
    pub(super) fn level(&self) -> Permission {
        match (self.permission.as_deref(), self.role_name.as_deref()) {
            (_, Some("maintain")) => Permission::Write,
            (Some(level), _) => Permission::parse(level),
            (None, _) => Permission::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(body: &str) -> Permission {
        serde_json::from_str::<CollaboratorPermission>(body)
            .expect("an answer")
            .level()
    }

    #[test]
    fn the_folded_level_decides_and_maintain_counts_as_write() {
        // A custom role (release-manager) is written as its base level.
        for (permission, role, expected) in [
            ("admin", "admin", Permission::Admin),
            ("write", "write", Permission::Write),
            ("read", "maintain", Permission::Write),
            ("read", "triage", Permission::Read),
            ("write", "release-manager", Permission::Write),
        ] {
            let body = format!(r#"{{"permission": "{permission}", "role_name": "{role}"}}"#);
            assert_eq!(level(&body), expected, "{body}");
        }
        assert!(level(r#"{"permission": "admin"}"#).can_write());
        assert!(!level(r#"{"permission": "read", "role_name": "triage"}"#).can_write());
    }

    #[test]
    fn a_missing_or_unknown_level_grants_nothing() {
        assert_eq!(level("{}"), Permission::None);
        assert_eq!(level(r#"{"permission": null}"#), Permission::None);
        let other = level(r#"{"permission": "owner"}"#);
        assert_eq!(other, Permission::Other("owner".into()));
        assert!(!other.can_write());
        assert_eq!(other.to_string(), "owner");
        assert!(!Permission::None.can_write());
    }

    #[test]
    fn a_level_reads_back_as_github_writes_it() {
        for text in ["admin", "write", "read", "none"] {
            assert_eq!(Permission::parse(text).as_str(), text);
        }
    }
}
