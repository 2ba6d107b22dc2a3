//! The console's JSON API under `/api`. Every route but sign-in needs a sign-in cookie (401
//! without), and every state-changing one its CSRF token too (403 without). Sessions the viewer
//! may not see answer 404, as if they did not exist; sessions they may see but not act on
//! answer 403 to actions.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::Console;
use super::auth::{self, Denied, Viewer};
use super::view::{self, SessionDetail};
use crate::core::agent_choice::{self, Switch};
use crate::core::{command_handlers, placement, replies};
use crate::domain::agent::{AgentKind, MODEL_RESET, ModelRequest};
use crate::domain::command::{self, CommandError, Spelling};
use crate::domain::ids::{SessionId, error_reference, new_id};
use crate::domain::inbound::{Inbound, InboundBody, Invalid};
use crate::domain::outbox_key::OutboxKey;
use crate::domain::thread::{Author, Platform, ThreadRef};
use crate::edge::client::ClientAddr;
use crate::runner::workspace_disk;
use crate::store::{NewSession, SessionRow};

/// The longest prompt the console accepts, in bytes.
const MAX_PROMPT: usize = 100_000;
/// Sessions the list shows at most.
const LIST_LIMIT: i64 = 500;
/// How long the Open PR button's request waits for `/pr`'s reply (a push and a pull request).
const PR_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

type Reply = Result<Response, Response>;

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn internal(e: anyhow::Error) -> Response {
    let reference = error_reference();
    tracing::error!(reference, "web console request failed: {e:#}");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        &format!("something went wrong (reference {reference})"),
    )
}

fn denied(denied: Denied) -> Response {
    match denied {
        Denied::SignedOut => error(StatusCode::UNAUTHORIZED, "sign in first"),
        Denied::Forgery => error(
            StatusCode::FORBIDDEN,
            "the request did not come from this console",
        ),
        Denied::Throttled => error(
            StatusCode::TOO_MANY_REQUESTS,
            "too many wrong tokens: wait a minute",
        ),
    }
}

/// The viewer of a read-only request.
pub(super) async fn viewer(console: &Console, headers: &HeaderMap) -> Result<Viewer, Response> {
    console
        .auth
        .viewer(headers)
        .await
        .map_err(internal)?
        .map_err(denied)
}

/// The viewer of a state-changing request from `client` (CSRF checked; a forgery audited).
async fn actor(
    console: &Console,
    client: ClientAddr,
    headers: &HeaderMap,
) -> Result<Viewer, Response> {
    let viewer = viewer(console, headers).await?;
    if let Err(refused) = auth::check_csrf(&viewer, headers) {
        let detail = format!(
            "a request of {}'s sign-in with a wrong or missing CSRF token or from another \
             site (Origin {:?})",
            viewer.user,
            origin(headers)
        );
        console.auth.refuse_forgery(client, &detail).await;
        return Err(denied(refused));
    }
    Ok(viewer)
}

/// The `Origin` a request names, for the audit trail.
fn origin(headers: &HeaderMap) -> &str {
    headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// A session the viewer may see (404 otherwise).
async fn visible(console: &Console, viewer: &Viewer, id: &str) -> Result<SessionRow, Response> {
    let not_found = || error(StatusCode::NOT_FOUND, "no such session");
    let session = console
        .core
        .store
        .session(&SessionId::from_string(id.to_owned()))
        .await
        .map_err(internal)?
        .ok_or_else(not_found)?;
    if view::can_see(viewer, &session) {
        Ok(session)
    } else {
        Err(not_found())
    }
}

/// A session the viewer may act on (404 if unseen, 403 if read-only).
async fn actionable(console: &Console, viewer: &Viewer, id: &str) -> Result<SessionRow, Response> {
    let session = visible(console, viewer, id).await?;
    if view::can_act(viewer, &session) {
        Ok(session)
    } else {
        Err(error(
            StatusCode::FORBIDDEN,
            "this session belongs to another platform: it is read-only here",
        ))
    }
}

/// Who is signed in, their CSRF token, and what a new session may be started on.
fn me(console: &Console, viewer: &Viewer) -> serde_json::Value {
    let core = &console.core;
    json!({
        "user": viewer.user,
        "admin": viewer.admin,
        "csrf": viewer.csrf,
        "hosts": core.hosts.names(),
        "default_host": core.defaults.host,
        "agents": AgentKind::ALL,
        "projects": core.projects.iter().map(|p| &p.name).collect::<Vec<_>>(),
    })
}

#[derive(Deserialize)]
pub struct SignIn {
    token: String,
}

pub async fn sign_in(
    State(console): State<Arc<Console>>,
    client: ClientAddr,
    headers: HeaderMap,
    Json(body): Json<SignIn>,
) -> Reply {
    if let Err(refused) = auth::same_origin(&headers) {
        let detail = format!(
            "a sign-in from another site (Origin {:?})",
            origin(&headers)
        );
        console.auth.refuse_forgery(client, &detail).await;
        return Err(denied(refused));
    }
    match console
        .auth
        .sign_in(client, body.token.trim())
        .await
        .map_err(internal)?
    {
        Ok((cookie, viewer)) => Ok((
            [(header::SET_COOKIE, console.auth.set_cookie(&cookie))],
            Json(me(&console, &viewer)),
        )
            .into_response()),
        Err(refused) => Err(denied(refused)),
    }
}

pub async fn sign_out(
    State(console): State<Arc<Console>>,
    client: ClientAddr,
    headers: HeaderMap,
) -> Reply {
    let viewer = actor(&console, client, &headers).await?;
    console.auth.sign_out(&viewer).await.map_err(internal)?;
    Ok((
        [(header::SET_COOKIE, console.auth.clear_cookie())],
        Json(json!({})),
    )
        .into_response())
}

pub async fn whoami(State(console): State<Arc<Console>>, headers: HeaderMap) -> Reply {
    let viewer = viewer(&console, &headers).await?;
    Ok(Json(me(&console, &viewer)).into_response())
}

#[derive(Deserialize)]
pub struct ListFilter {
    platform: Option<String>,
    state: Option<String>,
}

pub async fn list_sessions(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Query(filter): Query<ListFilter>,
) -> Reply {
    let viewer = viewer(&console, &headers).await?;
    let all = console
        .core
        .store
        .all_sessions(LIST_LIMIT)
        .await
        .map_err(internal)?;
    let wanted = |value: &str, filter: &Option<String>| {
        filter.as_deref().is_none_or(|f| f.is_empty() || f == value)
    };
    let items: Vec<_> = all
        .iter()
        .filter(|s| view::can_see(&viewer, &s.session))
        .map(|s| view::session_item(&viewer, s))
        .filter(|item| {
            wanted(item.platform.as_str(), &filter.platform) && wanted(item.state, &filter.state)
        })
        .collect();
    Ok(Json(json!({ "sessions": items })).into_response())
}

#[derive(Deserialize)]
pub struct NewWebSession {
    /// A project's name or `owner/repo[@branch]`; default: the only project, or none.
    project: Option<String>,
    host: Option<String>,
    /// Default: the project's agent, else the host's.
    agent: Option<String>,
    /// Default: the project's model for its agent, else the agent's default.
    model: Option<String>,
}

pub async fn create_session(
    State(console): State<Arc<Console>>,
    client: ClientAddr,
    headers: HeaderMap,
    Json(body): Json<NewWebSession>,
) -> Reply {
    let viewer = actor(&console, client, &headers).await?;
    let core = &console.core;
    let agent = match body.agent.as_deref().filter(|a| !a.is_empty()) {
        Some(name) => Some(agent_named(name).map_err(|r| refusal(&r))?),
        None => None,
    };
    let model = match body
        .model
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        Some(word) => Some(model_named(word).map_err(|r| refusal(&r))?),
        None => None,
    };
    let thread = new_thread(&viewer, &new_id());
    let asked = placement::Asked {
        target: body.project.as_deref().filter(|p| !p.is_empty()),
        host: body.host.as_deref().filter(|h| !h.is_empty()),
        agent,
    };
    let mut placed = placement::place(core, &thread, asked, None)
        .map_err(|unplaced| error(StatusCode::BAD_REQUEST, &replies::unplaced(&unplaced)))?;
    if let Some(model) = model {
        agent_choice::check_model(core, placed.agent.agent, &model)
            .map_err(|refused| refusal(&replies::switch_outcome(&web_spelling(), &Err(refused))))?;
        placed.agent.model = model.model().map(str::to_owned);
    }
    let session = core
        .store
        .replace_session(NewSession {
            id: placed.id,
            thread: &thread,
            host: &placed.host,
            agent: placed.agent.agent,
            model: placed.agent.model.as_deref(),
            workdir: &placed.workdir,
            workspace: placed.workspace.as_ref(),
            created_by: &viewer.user,
        })
        .await
        .map_err(internal)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": session.id.to_string() })),
    )
        .into_response())
}

pub async fn show_session(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    let viewer = viewer(&console, &headers).await?;
    let session = visible(&console, &viewer, &id).await?;
    let store = &console.core.store;
    let summary = store
        .session_summary(&session.id)
        .await
        .map_err(internal)?
        .ok_or_else(|| error(StatusCode::NOT_FOUND, "no such session"))?;
    let (turns, earlier_turns) = view::turns(store, &session).await.map_err(internal)?;
    let detail = SessionDetail {
        session: view::session_item(&viewer, &summary),
        turns,
        earlier_turns,
        replies: view::replies(store, &session).await.map_err(internal)?,
        choices: agent_models(&console, session.agent),
    };
    Ok(Json(detail).into_response())
}

/// What an agent offers ([`view::AgentModels`]).
fn agent_models(console: &Console, agent: AgentKind) -> view::AgentModels {
    let (models, default) = agent_choice::models(&console.core, agent);
    view::AgentModels {
        agent: agent.to_string(),
        models: models.to_vec(),
        default_model: default.map(str::to_owned),
    }
}

/// The models an agent offers, for the New-session form's model field.
pub async fn agent(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Reply {
    viewer(&console, &headers).await?;
    let agent = agent_named(&name).map_err(|r| refusal(&r))?;
    Ok(Json(agent_models(&console, agent)).into_response())
}

/// How the console's replies spell commands.
fn web_spelling() -> Spelling {
    Spelling::of(Platform::Web)
}

/// 400 with a reply's words (markdown, shown by the page as text).
fn refusal(reply: &str) -> Response {
    error(StatusCode::BAD_REQUEST, &view::markdown_text(reply))
}

/// An agent by name, or why not in the chat commands' words.
fn agent_named(name: &str) -> Result<AgentKind, String> {
    name.trim().parse().map_err(|_| {
        let invalid = Invalid::Command(CommandError::NotAnAgent(name.to_owned()));
        replies::invalid(&web_spelling(), &invalid)
    })
}

/// `/model`'s word read as the chat command reads it, or why not in its words.
fn model_named(word: &str) -> Result<ModelRequest, String> {
    ModelRequest::parse(word).ok_or_else(|| {
        let invalid = Invalid::Command(CommandError::NotAModel(word.to_owned()));
        replies::invalid(&web_spelling(), &invalid)
    })
}

#[derive(Deserialize)]
pub struct AgentSwitch {
    agent: String,
}

/// `/agent NAME` from the session page: the same switch as the chat command's.
pub async fn switch_agent(
    State(console): State<Arc<Console>>,
    client: ClientAddr,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<AgentSwitch>,
) -> Reply {
    let viewer = actor(&console, client, &headers).await?;
    let session = web_session(&console, &viewer, &id).await?;
    let agent = agent_named(&body.agent).map_err(|r| refusal(&r))?;
    switch(&console, &viewer, &session, Switch::Agent(agent)).await
}

#[derive(Deserialize)]
pub struct ModelSwitch {
    /// A model, or none (or `default`) for the agent's default.
    #[serde(default)]
    model: Option<String>,
}

/// `/model NAME` from the session page: the same check and change as the chat command's.
pub async fn switch_model(
    State(console): State<Arc<Console>>,
    client: ClientAddr,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<ModelSwitch>,
) -> Reply {
    let viewer = actor(&console, client, &headers).await?;
    let session = web_session(&console, &viewer, &id).await?;
    let word = body
        .model
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .unwrap_or(MODEL_RESET);
    let request = model_named(word).map_err(|r| refusal(&r))?;
    switch(&console, &viewer, &session, Switch::Model(request)).await
}

/// Switches a session as the viewer asked: 200 with what changed, 400 with why not.
async fn switch(console: &Console, viewer: &Viewer, session: &SessionRow, switch: Switch) -> Reply {
    let outcome = agent_choice::switch(&console.core, session, &viewer.user, &switch)
        .await
        .map_err(internal)?;
    let message = replies::switch_outcome(&web_spelling(), &outcome);
    match outcome {
        Ok(_) => Ok(Json(json!({
            "message": message,
            "html": view::markdown_html(&message),
        }))
        .into_response()),
        Err(_) => Err(refusal(&message)),
    }
}

#[derive(Deserialize)]
pub struct NewPrompt {
    text: String,
}

pub async fn send_prompt(
    State(console): State<Arc<Console>>,
    client: ClientAddr,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<NewPrompt>,
) -> Reply {
    let viewer = actor(&console, client, &headers).await?;
    let session = web_session(&console, &viewer, &id).await?;
    // The prompt goes to the agent as typed: pasted code keeps its indentation.
    let text = body.text.as_str();
    if text.trim().is_empty() {
        return Err(error(StatusCode::BAD_REQUEST, "the prompt is empty"));
    }
    if text.len() > MAX_PROMPT {
        return Err(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("the prompt is longer than {MAX_PROMPT} bytes"),
        ));
    }
    let body = InboundBody::Prompt {
        text: text.to_owned(),
    };
    submit(&console, &viewer, &session, body).await
}

/// Hands an event of the viewer's to the core, like a chat message; 202 once it is stored.
async fn submit(
    console: &Console,
    viewer: &Viewer,
    session: &SessionRow,
    body: InboundBody,
) -> Reply {
    let event = web_event(viewer, session, body);
    console.core.accept(&event).await.map_err(internal)?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "queued": true }))).into_response())
}

/// An event of the viewer's in a session's thread, as if they had typed it there.
fn web_event(viewer: &Viewer, session: &SessionRow, body: InboundBody) -> Inbound {
    Inbound {
        external_id: format!("web:{}", new_id()),
        thread: session.thread.clone(),
        author: Author {
            id: viewer.user.clone(),
            display: viewer.user.clone(),
        },
        message_id: None,
        body,
        context: None,
        files: Vec::new(),
    }
}

/// `/pr` in a web session (its Open PR button): handled like the typed command, its reply
/// posted in the thread and returned (as HTML) for the page to show; 202 when it takes longer
/// than [`PR_WAIT`] (the reply still lands in the thread).
pub async fn pull_request(
    State(console): State<Arc<Console>>,
    client: ClientAddr,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    let viewer = actor(&console, client, &headers).await?;
    let session = web_session(&console, &viewer, &id).await?;
    let event = web_event(
        &viewer,
        &session,
        InboundBody::Command(command::Command::PullRequest),
    );
    let reply = console.core.ask(&event, PR_WAIT).await.map_err(internal)?;
    Ok(match reply {
        Some(post) => Json(json!({
            "message": post.markdown,
            "html": view::markdown_html(&post.markdown),
        }))
        .into_response(),
        None => (
            StatusCode::ACCEPTED,
            Json(json!({ "message": "Still pushing: the reply will appear in the session." })),
        )
            .into_response(),
    })
}

#[derive(Deserialize)]
pub struct ScreenshotRequest {
    #[serde(default)]
    url: Option<String>,
}

/// `/screenshot [url]` in a web session: the picture arrives as a reply in its thread.
pub async fn take_screenshot(
    State(console): State<Arc<Console>>,
    client: ClientAddr,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<ScreenshotRequest>,
) -> Reply {
    let viewer = actor(&console, client, &headers).await?;
    let session = web_session(&console, &viewer, &id).await?;
    let url = body.url.as_deref().map(str::trim).unwrap_or_default();
    let command = command::parse("screenshot", url).map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            "give an http:// or https:// URL, or none for the host's display",
        )
    })?;
    submit(&console, &viewer, &session, InboundBody::Command(command)).await
}

/// A web session the viewer may act on, still active (prompts and commands go only there).
async fn web_session(console: &Console, viewer: &Viewer, id: &str) -> Result<SessionRow, Response> {
    let session = actionable(console, viewer, id).await?;
    if session.thread.platform != Platform::Web {
        return Err(error(
            StatusCode::CONFLICT,
            &format!(
                "prompts for a {} session are sent in {}",
                session.thread.platform, session.thread.platform
            ),
        ));
    }
    if !session.active {
        return Err(error(
            StatusCode::CONFLICT,
            "this session was replaced by a newer one: start a new session",
        ));
    }
    Ok(session)
}

pub async fn stop_turn(
    State(console): State<Arc<Console>>,
    client: ClientAddr,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    let viewer = actor(&console, client, &headers).await?;
    let session = actionable(&console, &viewer, &id).await?;
    let message = command_handlers::stop_running(&console.core, &session, 0)
        .await
        .map_err(internal)?;
    Ok(Json(json!({ "message": message })).into_response())
}

pub async fn cancel_queued(
    State(console): State<Arc<Console>>,
    client: ClientAddr,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    let viewer = actor(&console, client, &headers).await?;
    let session = actionable(&console, &viewer, &id).await?;
    let dropped = command_handlers::drop_queued(&console.core, &session)
        .await
        .map_err(internal)?;
    Ok(Json(json!({ "dropped": dropped })).into_response())
}

pub async fn hosts(State(console): State<Arc<Console>>, headers: HeaderMap) -> Reply {
    viewer(&console, &headers).await?;
    let core = &console.core;
    let probes = core.hosts.iter().map(|host| async move {
        let health = command_handlers::probe(core, host, core.host_agent(&host.name)).await;
        let reachable = health.error.is_none();
        let mut view = view::host_view(&host.name, host.running(), host.max_turns, health);
        if reachable {
            match workspace_disk::read(&*host.transport, &host.workdir).await {
                Ok(found) => view.workspaces = found.into_iter().map(Into::into).collect(),
                Err(e) => tracing::warn!(host = %host.name, "reading workspaces' disk use: {e}"),
            }
        }
        view
    });
    let hosts = futures_util::future::join_all(probes).await;
    Ok(Json(json!({ "hosts": hosts })).into_response())
}

/// The configured projects (name, repository, default branch, hosts), for any signed-in viewer.
pub async fn projects(State(console): State<Arc<Console>>, headers: HeaderMap) -> Reply {
    viewer(&console, &headers).await?;
    Ok(Json(json!({ "projects": console.core.projects })).into_response())
}

/// A file that came with a post in a thread the viewer may see: a turn's patch, an image, a
/// screenshot.
pub async fn post_file(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Path((key, index)): Path<(String, usize)>,
) -> Reply {
    let viewer = viewer(&console, &headers).await?;
    let not_found = || error(StatusCode::NOT_FOUND, "no such file");
    let key: OutboxKey = key.parse().map_err(|_| not_found())?;
    let (thread, post) = console
        .core
        .store
        .outbox_post(&key)
        .await
        .map_err(internal)?
        .ok_or_else(not_found)?;
    if !view::can_see_thread(&viewer, &thread) {
        return Err(not_found());
    }
    let file = post.attachments.get(index).ok_or_else(not_found)?;
    let bytes = console
        .core
        .store
        .attachment_bytes(&key, file)
        .await
        .map_err(internal)?
        .ok_or_else(not_found)?;
    let content_type = content_type(&file.name);
    let disposition = if content_type.starts_with("image/") {
        "inline"
    } else {
        "attachment"
    };
    let safe_name: String = file
        .name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("{disposition}; filename=\"{safe_name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// What a file is served as, by its extension; anything unknown is a download.
fn content_type(name: &str) -> &'static str {
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match extension.as_deref() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("diff" | "patch" | "md" | "txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The thread of a new console session of `viewer`.
fn new_thread(viewer: &Viewer, id: &str) -> ThreadRef {
    ThreadRef {
        platform: Platform::Web,
        chat: viewer.user.clone(),
        topic: Some(id.to_owned()),
    }
}
