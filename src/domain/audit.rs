//! The decisions the audit table records, by name.
//!
//! An action is stored as text and read back as text (`switchboard audit` prints it, operators
//! filter on it), so each keeps the spelling rows already hold. Those grew in three styles; a new
//! action is spelled in `snake_case`, like `update_rejected`.

use std::fmt;

/// What was decided about a request or an author.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// An author the platform's policy does not admit (the router).
    Refused,
    /// A Telegram update the bot could not read (the poller and the webhook).
    UpdateRejected,
    /// A webhook call refused for its signature, its age or its form.
    WebhookRejected,
    /// A wrong token at the web console's sign-in.
    SignInRefused,
    /// A web console request that did not come from the console's own pages.
    ForgeryRefused,
    /// A session's branch pushed by `/pr`, or a GitHub issue's after a mention (who asked, the
    /// commit made for them, the pull request).
    BranchPushed,
    /// An idle session's workspace removed from its host (the clean-up).
    WorkspaceRemoved,
    /// A session switched to another agent (`/agent`, the console): who, from, to.
    AgentSwitched,
    /// A session's model changed (`/model`, the console): who, from, to.
    ModelSwitched,
    /// A schedule's prompt queued (actor `schedule:ID`), or a schedule made or removed in chat.
    ScheduleFired,
    ScheduleMade,
    ScheduleRemoved,
    /// A signed hook's prompt queued (actor `hook:NAME`).
    HookFired,
}

impl AuditAction {
    /// The action as the audit table stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Refused => "refused",
            AuditAction::UpdateRejected => "update_rejected",
            AuditAction::WebhookRejected => "webhook_rejected",
            AuditAction::SignInRefused => "sign-in refused",
            AuditAction::ForgeryRefused => "forgery refused",
            AuditAction::BranchPushed => "branch_pushed",
            AuditAction::WorkspaceRemoved => "workspace_removed",
            AuditAction::AgentSwitched => "agent_switched",
            AuditAction::ModelSwitched => "model_switched",
            AuditAction::ScheduleFired => "schedule_fired",
            AuditAction::ScheduleMade => "schedule_made",
            AuditAction::ScheduleRemoved => "schedule_removed",
            AuditAction::HookFired => "hook_fired",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored spellings are what earlier rows hold and what readers of the trail filter on.
    #[test]
    fn actions_keep_the_spellings_rows_already_hold() {
        let stored = [
            (AuditAction::Refused, "refused"),
            (AuditAction::UpdateRejected, "update_rejected"),
            (AuditAction::WebhookRejected, "webhook_rejected"),
            (AuditAction::SignInRefused, "sign-in refused"),
            (AuditAction::ForgeryRefused, "forgery refused"),
            (AuditAction::BranchPushed, "branch_pushed"),
            (AuditAction::WorkspaceRemoved, "workspace_removed"),
            (AuditAction::AgentSwitched, "agent_switched"),
            (AuditAction::ModelSwitched, "model_switched"),
            (AuditAction::ScheduleFired, "schedule_fired"),
            (AuditAction::ScheduleMade, "schedule_made"),
            (AuditAction::ScheduleRemoved, "schedule_removed"),
            (AuditAction::HookFired, "hook_fired"),
        ];
        for (action, text) in stored {
            assert_eq!(action.as_str(), text);
            assert_eq!(action.to_string(), text);
        }
    }
}
