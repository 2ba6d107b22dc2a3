//! What the console's pages show, as JSON: sessions in a list, a session's conversation turn by
//! turn (prompt, live activity, tool calls, the answer as HTML, the change figures, the patch
//! and images), and hosts. Built from what the bot already keeps — sessions, turns, their
//! events, and each answer's post in the outbox — so the console shows exactly what the chat
//! platforms were sent.
//!
//! Markdown becomes HTML here, on the server: raw HTML in it is shown as text and only `http`,
//! `https` and `mailto` links are kept, so nothing an agent or a user writes runs in the page.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag};
use serde::Serialize;

use super::auth::Viewer;
use crate::domain::agent_event::AgentEvent;
use crate::domain::outbound::Post;
use crate::domain::outbox_key::OutboxKey;
use crate::domain::thread::{Platform, ThreadRef};
use crate::domain::turn::TurnState;
use crate::domain::workspace::SessionWorkspace;
use crate::runner::health::Health;
use crate::runner::workspace_disk::WorkspaceDisk;
use crate::store::{SessionRow, SessionSummary, Store, TurnRow};

/// One session in the list.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SessionItem {
    pub id: String,
    /// The id as the console shows it (see [`shown_id`]).
    pub short_id: String,
    /// Its first prompt, on one line and cut short; `None` before the first prompt.
    pub title: Option<String>,
    pub platform: Platform,
    /// The thread, as its platform names it.
    pub thread: String,
    pub host: String,
    pub agent: String,
    /// The model chosen for it; `None`: the agent's default.
    pub model: Option<String>,
    /// `running`, `queued`, `idle` or `retired`.
    pub state: &'static str,
    pub queued: i64,
    pub turns: i64,
    /// Unix milliseconds.
    pub last_activity: i64,
    pub cost_usd: f64,
    pub created_by: String,
    /// The viewer may send prompts and stop turns here.
    pub can_act: bool,
    /// The project it works on, when it works on one.
    pub workspace: Option<WorkspaceView>,
}

/// A session's project worktree: what `/pr` (the Open PR button) pushes and opens.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WorkspaceView {
    pub project: String,
    pub branch: String,
    /// Its pull request, once `/pr` opened one.
    pub pr_number: Option<i64>,
    /// The pull request's page (an `http(s)` URL only).
    pub pr_url: Option<String>,
}

/// The project worktree of `session`, if it has one.
fn workspace_view(session: &SessionRow) -> Option<WorkspaceView> {
    let Some(SessionWorkspace::Worktree(worktree)) = &session.workspace else {
        return None;
    };
    let pr_url = session
        .delivery
        .pr_url
        .clone()
        .filter(|url| url.starts_with("https://") || url.starts_with("http://"));
    Some(WorkspaceView {
        project: worktree.project.clone(),
        branch: worktree.branch.clone(),
        pr_number: pr_url.as_ref().and(session.delivery.pr_number),
        pr_url,
    })
}

/// Whether `viewer` may see a session at all: their own web sessions and every other
/// platform's; an admin sees everything.
pub fn can_see(viewer: &Viewer, session: &SessionRow) -> bool {
    can_see_thread(viewer, &session.thread)
}

/// [`can_see`] for a thread (a session's, or a post's).
pub fn can_see_thread(viewer: &Viewer, thread: &ThreadRef) -> bool {
    viewer.admin || thread.platform != Platform::Web || thread.chat == viewer.user
}

/// Whether `viewer` may act on a session: their own web sessions; an admin, any.
pub fn can_act(viewer: &Viewer, session: &SessionRow) -> bool {
    viewer.admin || (session.thread.platform == Platform::Web && session.thread.chat == viewer.user)
}

pub fn session_item(viewer: &Viewer, summary: &SessionSummary) -> SessionItem {
    let session = &summary.session;
    let state = if !session.active {
        "retired"
    } else if summary.running > 0 {
        "running"
    } else if summary.queued > 0 {
        "queued"
    } else {
        "idle"
    };
    SessionItem {
        id: session.id.to_string(),
        short_id: shown_id(session.id.as_str()).to_owned(),
        title: summary.first_prompt.as_deref().and_then(title),
        platform: session.thread.platform,
        thread: session.thread.key(),
        host: session.host.clone(),
        agent: session.agent.to_string(),
        model: session.model.clone(),
        state,
        queued: summary.queued,
        turns: summary.turns,
        last_activity: summary.last_activity,
        cost_usd: session.total_cost_usd,
        created_by: session.created_by.clone(),
        can_act: can_act(viewer, session),
        workspace: workspace_view(session),
    }
}

/// How the console shows an id: its last 8 hex digits, which are random. The first 8 (what chats
/// show) are the time it was made, shared by every session made within the same minute.
pub fn shown_id(id: &str) -> &str {
    &id[id.len().saturating_sub(8)..]
}

/// The most characters of a title.
const TITLE_CHARS: usize = 80;

/// A session's title from its first prompt: the words on one line, cut at [`TITLE_CHARS`]
/// characters with an ellipsis; `None` when the prompt is blank.
fn title(prompt: &str) -> Option<String> {
    let words: Vec<&str> = prompt.split_whitespace().collect();
    if words.is_empty() {
        return None;
    }
    let line = words.join(" ");
    if line.chars().count() <= TITLE_CHARS {
        return Some(line);
    }
    let cut: String = line.chars().take(TITLE_CHARS - 1).collect();
    Some(format!("{}…", cut.trim_end()))
}

/// A tool call the agent made.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ToolCall {
    pub name: String,
    pub summary: String,
}

/// A file that came with the answer.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FileView {
    pub name: String,
    pub caption: String,
    pub image: bool,
    /// Where the page fetches it.
    pub url: String,
}

/// One prompt and what became of it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TurnView {
    pub id: String,
    pub author: String,
    pub prompt_html: String,
    /// `queued`, `starting`, `running`, `done` or `dropped`.
    pub state: &'static str,
    /// How it ended (`success`, `cancelled`, …), once it has.
    pub outcome: Option<&'static str>,
    /// What the agent is doing now, while it runs, as HTML (its activity line is Markdown:
    /// `` `Bash` npm test ``).
    pub activity_html: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    pub cost_usd: Option<f64>,
    pub tool_calls: Vec<ToolCall>,
    /// The answer as the chat got it (with the changes summary), as HTML.
    pub answer_html: Option<String>,
    /// The whole patch, when the turn changed files.
    pub patch: Option<String>,
    pub files: Vec<FileView>,
}

/// A reply to a command in the session's thread (`/screenshot`, `/status`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReplyView {
    pub created_at: i64,
    pub html: String,
    pub files: Vec<FileView>,
}

/// A session's page.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SessionDetail {
    pub session: SessionItem,
    pub turns: Vec<TurnView>,
    /// Earlier turns the page leaves out.
    pub earlier_turns: usize,
    pub replies: Vec<ReplyView>,
    /// What the session's agent offers: [`AgentModels`].
    pub choices: AgentModels,
}

/// The models an agent offers a session (`agents.NAME.models`; empty: any name) and the one it
/// uses when the session names none.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentModels {
    pub agent: String,
    pub models: Vec<String>,
    pub default_model: Option<String>,
}

/// The command replies in a session's thread since it began.
pub async fn replies(store: &Store, session: &SessionRow) -> anyhow::Result<Vec<ReplyView>> {
    let posts = store
        .command_replies(&session.thread, session.created_at)
        .await?;
    Ok(posts
        .iter()
        .map(|stored| ReplyView {
            created_at: stored.created_at,
            html: markdown_html(&stored.post.markdown),
            files: files(&stored.key, &stored.post),
        })
        .collect())
}

/// The files of a post, each with the URL the page fetches it from.
fn files(key: &OutboxKey, post: &Post) -> Vec<FileView> {
    post.attachments
        .iter()
        .enumerate()
        .map(|(i, a)| FileView {
            name: a.name.clone(),
            caption: a.caption.clone(),
            image: a.image,
            url: format!("/api/files/{key}/{i}"),
        })
        .collect()
}

/// The most turns a session's page shows: the latest ones.
pub const TURNS_SHOWN: usize = 100;

/// The latest [`TURNS_SHOWN`] turns of a session with their events and answers, and how many
/// earlier ones are left out.
pub async fn turns(store: &Store, session: &SessionRow) -> anyhow::Result<(Vec<TurnView>, usize)> {
    let all = store.session_turns(&session.id).await?;
    let earlier = all.len().saturating_sub(TURNS_SHOWN);
    let mut views = Vec::new();
    for turn in all.into_iter().skip(earlier) {
        let events = store.turn_events(&turn.id).await?;
        let tool_calls = events
            .iter()
            .filter_map(|e| match &e.event {
                AgentEvent::ToolUse { name, summary, .. } => Some(ToolCall {
                    name: name.clone(),
                    summary: summary.clone(),
                }),
                _ => None,
            })
            .collect();
        let key = OutboxKey::Result(turn.id.clone());
        let post = store.outbox_post(&key).await?.map(|(_, post)| post);
        let patch = match &post {
            Some(post) => patch(store, &key, post).await?,
            None => None,
        };
        views.push(turn_view(&turn, tool_calls, post.as_ref(), patch));
    }
    Ok((views, earlier))
}

/// The text of the patch among an answer's files (queued under `key`), read from the store.
async fn patch(store: &Store, key: &OutboxKey, post: &Post) -> anyhow::Result<Option<String>> {
    let Some(file) = post
        .attachments
        .iter()
        .find(|a| !a.image && a.name.ends_with(".diff"))
    else {
        return Ok(None);
    };
    let bytes = store.attachment_bytes(key, file).await?;
    Ok(bytes.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
}

fn turn_view(
    turn: &TurnRow,
    tool_calls: Vec<ToolCall>,
    post: Option<&Post>,
    patch: Option<String>,
) -> TurnView {
    let running = matches!(turn.state, TurnState::Starting | TurnState::Running);
    let files = post
        .map(|p| files(&OutboxKey::Result(turn.id.clone()), p))
        .unwrap_or_default();
    TurnView {
        id: turn.id.to_string(),
        author: turn.author_name.clone(),
        prompt_html: markdown_html(&turn.prompt),
        state: turn.state.as_str(),
        outcome: turn.outcome.as_ref().map(|o| o.name()),
        activity_html: running
            .then_some(turn.activity.as_deref())
            .flatten()
            .map(markdown_html),
        created_at: turn.created_at,
        finished_at: turn.finished_at,
        cost_usd: turn.cost_usd,
        tool_calls,
        answer_html: post.map(|p| markdown_html(&p.markdown)),
        patch,
        files,
    }
}

/// A host's health, as `/status` reports it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HostView {
    pub name: String,
    pub reachable: bool,
    pub latency_ms: Option<u64>,
    pub error: Option<String>,
    pub load: Option<String>,
    pub mem_total_kb: Option<u64>,
    pub mem_available_kb: Option<u64>,
    pub disk_free_kb: Option<u64>,
    pub agent_version: Option<String>,
    pub missing_tools: Vec<String>,
    pub running: u32,
    pub max_turns: u32,
    /// The sessions' workspaces and the shared clones on the host, largest first.
    pub workspaces: Vec<WorkspaceDiskView>,
}

/// A workspace's disk use on the Hosts page.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WorkspaceDiskView {
    pub path: String,
    pub kib: u64,
    /// The session it belongs to (none for a project's shared clone).
    pub session: Option<String>,
}

impl From<WorkspaceDisk> for WorkspaceDiskView {
    fn from(disk: WorkspaceDisk) -> Self {
        WorkspaceDiskView {
            session: disk.session().map(str::to_owned),
            path: disk.path,
            kib: disk.kib,
        }
    }
}

pub fn host_view(name: &str, running: u32, max_turns: u32, health: Health) -> HostView {
    HostView {
        name: name.to_owned(),
        reachable: health.latency.is_some(),
        latency_ms: health.latency.map(|l| l.as_millis() as u64),
        error: health.error,
        load: health.load,
        mem_total_kb: health.mem_total_kb,
        mem_available_kb: health.mem_available_kb,
        disk_free_kb: health.disk_free_kb,
        agent_version: health.agent_version,
        missing_tools: health.missing_tools,
        running,
        max_turns,
        workspaces: Vec::new(),
    }
}

/// Markdown's words without its markup: a reply the page shows as plain text (an error).
pub fn markdown_text(markdown: &str) -> String {
    Parser::new(markdown)
        .filter_map(|event| match event {
            Event::Text(text) | Event::Code(text) => Some(text.into_string()),
            Event::SoftBreak | Event::HardBreak => Some(" ".to_owned()),
            _ => None,
        })
        .collect()
}

/// Markdown as safe HTML (see the module docs).
pub fn markdown_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        other => other,
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

/// A link target, or nothing when it could run script or leave the web.
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let lower = url.trim_start().to_ascii_lowercase();
    let has_scheme = lower
        .split(['/', '?', '#'])
        .next()
        .is_some_and(|s| s.contains(':'));
    let allowed = ["http:", "https:", "mailto:"]
        .iter()
        .any(|scheme| lower.starts_with(scheme));
    if has_scheme && !allowed {
        CowStr::Borrowed("")
    } else {
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_shown_by_the_random_end_of_their_id_and_their_first_prompt() {
        assert_eq!(shown_id("01a2455b-a585-73ce-8b67-d7a6a4782183"), "a4782183");
        assert_eq!(
            title("  fix the\n\n  tests please "),
            Some("fix the tests please".to_owned())
        );
        assert_eq!(title(" \n "), None);
        let long = title(&"word ".repeat(40)).unwrap();
        assert_eq!(long.chars().count(), TITLE_CHARS);
        assert!(long.ends_with("word…"), "{long}");
    }

    #[test]
    fn markdown_is_rendered_and_defused() {
        assert_eq!(
            markdown_html("**bold** and `code`"),
            "<p><strong>bold</strong> and <code>code</code></p>\n"
        );
        assert_eq!(
            markdown_html("```rust\nfn main() {}\n```"),
            "<pre><code class=\"language-rust\">fn main() {}\n</code></pre>\n"
        );
        let html = markdown_html("<script>alert(1)</script> <img src=x onerror=alert(1)>");
        assert!(
            !html.contains("<script") && !html.contains("<img"),
            "{html}"
        );
        assert!(html.contains("&lt;script&gt;"), "{html}");
        for link in [
            "[x](javascript:alert(1))",
            "[x](JavaScript:alert(1))",
            "[x]( data:text/html,hi)",
            "[x](vbscript:x)",
        ] {
            let html = markdown_html(link);
            assert!(html.contains("href=\"\""), "{link}: {html}");
        }
        for link in [
            "[x](https://a.example/p)",
            "[x](/api/x)",
            "[x](#top)",
            "[x](mailto:a@b.c)",
        ] {
            assert!(!markdown_html(link).contains("href=\"\""), "{link}");
        }
    }
}
