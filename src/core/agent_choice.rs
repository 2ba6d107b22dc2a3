//! Switching a session's agent or model: the one rule `/agent`, `/model` and the web console's
//! session page share, so a choice made anywhere is checked and recorded the same way.
//!
//! A switch is allowed at any time and applies to the turns not started yet: a turn takes its
//! session's agent and model when it starts (`core::turn` records them on the turn), so the
//! running turn goes on as it began and the prompts still queued go to the new choice. A new
//! agent starts a fresh conversation (one agent cannot resume another's); a new model keeps the
//! conversation. Each switch is a line of the audit trail: who, the session, from and to.

use anyhow::Result;

use super::Core;
use crate::agents;
use crate::domain::agent::{AgentKind, ModelRequest};
use crate::domain::audit::AuditAction;
use crate::store::SessionRow;

/// What someone asked to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Switch {
    Agent(AgentKind),
    Model(ModelRequest),
}

/// What a switch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Switched {
    /// The session now talks to `to`. A turn `running` when it switched finishes with `from`;
    /// the `queued` ones start with `to`.
    Agent {
        from: AgentKind,
        to: AgentKind,
        running: bool,
        queued: i64,
    },
    /// It already talks to this agent: nothing changed, the conversation goes on.
    SameAgent(AgentKind),
    /// The session's next turns ask `agent` for `to` (`None`: its default, `default`); as with
    /// an agent, a turn `running` keeps its model and the `queued` ones take the new one.
    Model {
        agent: AgentKind,
        from: Option<String>,
        to: Option<String>,
        default: Option<String>,
        running: bool,
        queued: i64,
    },
}

/// Why a switch was refused: a model not in the agent's `agents.NAME.models`, in
/// [`agents::check_model`]'s words (which list the choices).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

/// The models a session of `agent` may choose (empty: any name) and the one it gets when it
/// chooses none.
pub fn models(core: &Core, agent: AgentKind) -> (&[String], Option<&str>) {
    let adapter = core.agents.get(agent);
    (adapter.models(), adapter.default_model())
}

/// Whether a session of `agent` may ask for the model `request` names (the agent's default
/// always may).
pub fn check_model(core: &Core, agent: AgentKind, request: &ModelRequest) -> Result<(), Refused> {
    match request.model() {
        Some(model) => agents::check_model(core.agents.get(agent), model).map_err(Refused),
        None => Ok(()),
    }
}

/// Switches `session` as asked by `actor` (a platform user id), recording the switch in the
/// audit trail.
pub async fn switch(
    core: &Core,
    session: &SessionRow,
    actor: &str,
    switch: &Switch,
) -> Result<Result<Switched, Refused>> {
    let running = core.store.running_turn(&session.id).await?.is_some();
    let queued = core.store.queued_count(&session.id).await?;
    let (switched, from, to, action) = match switch {
        Switch::Agent(to) if *to == session.agent => return Ok(Ok(Switched::SameAgent(*to))),
        Switch::Agent(to) => {
            core.store.set_session_agent(&session.id, *to).await?;
            let switched = Switched::Agent {
                from: session.agent,
                to: *to,
                running,
                queued,
            };
            let from = session.agent.to_string();
            (switched, from, to.to_string(), AuditAction::AgentSwitched)
        }
        Switch::Model(request) => {
            if let Err(refused) = check_model(core, session.agent, request) {
                return Ok(Err(refused));
            }
            let adapter = core.agents.get(session.agent);
            core.store
                .set_session_model(&session.id, request.model())
                .await?;
            let switched = Switched::Model {
                agent: session.agent,
                from: session.model.clone(),
                to: request.model().map(str::to_owned),
                default: adapter.default_model().map(str::to_owned),
                running,
                queued,
            };
            let name = |model: Option<&str>| model.unwrap_or("the agent's default").to_owned();
            let from = format!("{} {}", session.agent, name(session.model.as_deref()));
            let to = name(request.model());
            (switched, from, to, AuditAction::ModelSwitched)
        }
    };
    let detail = format!("session {}: {from} -> {to}", session.id);
    core.store
        .audit(
            session.thread.platform,
            actor,
            &session.thread.key(),
            action,
            &detail,
        )
        .await?;
    Ok(Ok(switched))
}
