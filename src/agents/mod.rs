//! Agent adapters: how to start an agent CLI for one turn and how to read what it prints.
//!
//! An adapter knows its CLI's command line and output format and nothing about hosts or chats:
//! it turns configuration into an [`Invocation`] and output lines into core
//! [`AgentEvent`](crate::core::agent_event::AgentEvent)s, and classifies how a run ended.

pub mod claude;

/// The command line of one agent run. The prompt is not part of it: it arrives on stdin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// Program and arguments, each passed to the host as one quoted word.
    pub argv: Vec<String>,
    /// Environment for the agent (non-login SSH sessions pass almost nothing through).
    pub env: Vec<(String, String)>,
}
