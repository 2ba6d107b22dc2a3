//! Agent adapters: how to start an agent CLI for one turn and how to read what it prints.
//!
//! An adapter knows its CLI's command line and output format and nothing about hosts or chats:
//! it turns configuration into an
//! [`Invocation`](crate::domain::invocation::Invocation) and output lines into core
//! [`AgentEvent`](crate::domain::agent_event::AgentEvent)s, and classifies how a run ended.

pub mod claude;
