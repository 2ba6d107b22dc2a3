//! Choosing the agent and model from the thread: `/model` changes the next turn's command line
//! and keeps the conversation, `/agent` switches the session (a fresh conversation), `/status`
//! and the audit trail say which ran, and a bad name gets an error that loses nothing.

use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard::domain::agent::AgentKind;
use switchboard::domain::ids::SessionId;
use switchboard::domain::thread::{Platform, ThreadRef};

use crate::support::db::{Db, on_both_databases};
use crate::support::harness::{Harness, Options, WEB_ADMIN_TOKEN};
use crate::support::web_client::{Forged, WebClient};

on_both_databases!(
    the_model_and_agent_are_chosen_in_the_thread,
    a_switch_mid_turn_reaches_only_the_turns_not_started,
    the_console_chooses_them_with_the_same_rules,
);

const MODELS: &str = "[agents.claude]\nmodels = [\"claude-opus-4-5\", \"claude-sonnet-4-5\"]\n";

/// Alice's chat as the store keys it.
fn thread(t: &Harness) -> ThreadRef {
    ThreadRef {
        platform: Platform::Telegram,
        chat: t.chat.id.to_string(),
        topic: None,
    }
}

/// Sends a prompt and waits for its whole turn; returns the answer's text.
async fn turn(t: &Harness, prompt: &str) -> String {
    t.say(prompt);
    let status = t.next().await;
    let answer = t.next().await;
    t.wait_status(&status, "✅ Done").await;
    answer.text
}

/// Sends a command; returns the bot's reply.
async fn command(t: &Harness, text: &str) -> String {
    t.say(text);
    t.next().await.text
}

fn model_arg(argv: &[String]) -> Option<&str> {
    let at = argv.iter().position(|a| a == "--model")?;
    argv.get(at + 1).map(String::as_str)
}

async fn the_model_and_agent_are_chosen_in_the_thread(db: Db) {
    let mut options = Options::new(db);
    options.extra_config = MODELS.to_owned();
    let t = Harness::start_with(options).await;

    assert_eq!(turn(&t, "first").await, "Echo #1: first");
    let shown = command(&t, "/model").await;
    assert!(shown.contains("the agent's default"), "{shown}");
    assert!(
        shown.contains("claude-opus-4-5, claude-sonnet-4-5"),
        "{shown}"
    );

    // A model outside the list is refused with the list, and nothing changes.
    let refused = command(&t, "/model gpt-4").await;
    assert!(
        refused.contains(
            "\"gpt-4\" is not one of claude's models: claude-opus-4-5, claude-sonnet-4-5"
        ) && refused.contains("Nothing changed"),
        "{refused}"
    );
    let refused = command(&t, "/model --help").await;
    assert!(refused.contains("cannot be a model's name"), "{refused}");

    let set = command(&t, "/model claude-opus-4-5").await;
    assert!(
        set.contains("ask claude for claude-opus-4-5") && set.contains("conversation goes on"),
        "{set}"
    );
    assert_eq!(turn(&t, "second").await, "Echo #2: second");
    let runs = t.agent_runs();
    assert_eq!(model_arg(&runs[0].argv), None, "{:?}", runs[0].argv);
    assert_eq!(
        model_arg(&runs[1].argv),
        Some("claude-opus-4-5"),
        "{:?}",
        runs[1].argv
    );
    assert_eq!(runs[1].resume_id(), Some(runs[0].session_id.as_str()));
    let status = command(&t, "/status").await;
    assert!(
        status.contains("Agent: claude · Model: claude-opus-4-5"),
        "{status}"
    );

    // Back to the default: the last turn, run with another model, says which.
    let reset = command(&t, "/model default").await;
    assert!(reset.contains("(was claude-opus-4-5)"), "{reset}");
    let status = command(&t, "/status").await;
    assert!(
        status.contains("Model: the agent's default")
            && status.contains("with claude (model claude-opus-4-5)"),
        "{status}"
    );

    let unknown = command(&t, "/agent gemini").await;
    assert!(
        unknown.contains("gemini is not an agent. Agents: claude, codex, opencode"),
        "{unknown}"
    );
    let same = command(&t, "/agent claude").await;
    assert!(same.contains("already talks to claude"), "{same}");
    let store = t.store().await;
    let before = store.active_session(&thread(&t)).await.unwrap().unwrap();
    assert_eq!(before.agent, AgentKind::Claude);
    assert!(before.agent_session_id.is_some());

    // A switch: the session's next turn starts a fresh conversation with the new agent.
    let switched = command(&t, "/agent codex").await;
    assert!(
        switched.contains("Switched this session from claude to codex")
            && switched.contains("fresh conversation with codex"),
        "{switched}"
    );
    let after = store.active_session(&thread(&t)).await.unwrap().unwrap();
    assert_eq!(after.id, before.id, "the same session, switched");
    assert_eq!(after.agent, AgentKind::Codex);
    assert_eq!(after.model, None);
    assert_eq!(after.agent_session_id, None);
    let shown = command(&t, "/agent").await;
    assert!(shown.contains("This session's agent is codex"), "{shown}");

    // The trail: each switch with who, from and to; the turns with the model each ran with.
    let audit = t
        .wait_audit(|rows| {
            rows.iter()
                .filter(|r| r.action.ends_with("_switched"))
                .count()
                == 3
        })
        .await;
    let switches: Vec<(&str, &str, &str)> = audit
        .iter()
        .filter(|r| r.action.ends_with("_switched"))
        .map(|r| (r.action.as_str(), r.actor.as_str(), r.detail.as_str()))
        .collect();
    let detail = |change: &str| format!("session {}: {change}", before.id);
    let expected = [
        (
            "model_switched",
            detail("claude the agent's default -> claude-opus-4-5"),
        ),
        (
            "model_switched",
            detail("claude claude-opus-4-5 -> the agent's default"),
        ),
        ("agent_switched", detail("claude -> codex")),
    ];
    let expected: Vec<(&str, &str, &str)> = expected
        .iter()
        .map(|(action, detail)| (*action, "1001", detail.as_str()))
        .collect();
    assert_eq!(switches, expected);
    let out = tokio::task::block_in_place(|| t.cli(&["audit", "--json"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trail: Vec<Value> = serde_json::from_slice(&out.stdout).expect("JSON");
    let turns: Vec<(&str, Option<&str>)> = trail
        .iter()
        .filter(|e| e["kind"] == "turn")
        .map(|e| (e["agent"].as_str().unwrap(), e["model"].as_str()))
        .collect();
    assert_eq!(turns.len(), 2, "{trail:#?}");
    assert_eq!(turns[1], ("claude", Some("claude-opus-4-5")));

    // The next turn runs Codex, in a conversation of its own (not a resume of Claude's).
    assert_eq!(turn(&t, "third").await, "Echo #1: third");
    let runs = t.agent_runs();
    assert_eq!(runs.len(), 3);
    assert!(
        runs[2].argv[0].ends_with("fake-codex") && !runs[2].argv.contains(&"resume".to_owned()),
        "{:?}",
        runs[2].argv
    );
    let status = command(&t, "/status").await;
    assert!(status.contains("Agent: codex"), "{status}");
    let after = store.active_session(&thread(&t)).await.unwrap().unwrap();
    assert_eq!(
        after.agent_session_id.as_deref(),
        Some(runs[2].session_id.as_str())
    );
    store.close().await;
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// A switch is allowed while a turn runs: that turn finishes with the model it started with,
/// and the prompt queued behind it starts with the new one.
async fn a_switch_mid_turn_reaches_only_the_turns_not_started(db: Db) {
    let mut options = Options::new(db);
    options.extra_config = MODELS.to_owned();
    let t = Harness::start_with(options).await;
    let go = t.host_dir.path().join("go");
    t.say(&format!("@fake wait-for {}\nfirst", go.display()));
    t.next().await; // its status
    t.wait_agent_runs(1).await;
    t.say("second");
    let queued = t.next().await;
    assert!(
        queued.text.starts_with("⏳ Queued, position 1"),
        "{}",
        queued.text
    );
    let set = command(&t, "/model claude-opus-4-5").await;
    assert!(
        set.contains("The running turn finishes with the model it started with.")
            && set.contains("The queued prompt goes to claude-opus-4-5."),
        "{set}"
    );
    std::fs::write(&go, "").unwrap();
    t.wait_text("Echo #2: second").await;
    let runs = t.wait_agent_runs(2).await;
    assert_eq!(model_arg(&runs[0].argv), None, "{:?}", runs[0].argv);
    assert_eq!(
        model_arg(&runs[1].argv),
        Some("claude-opus-4-5"),
        "{:?}",
        runs[1].argv
    );
    let store = t.store().await;
    let session = store.active_session(&thread(&t)).await.unwrap().unwrap();
    let last = store
        .last_finished_turn(&session.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        last.agent.and_then(|choice| choice.model).as_deref(),
        Some("claude-opus-4-5")
    );
    store.close().await;
}

/// The console's New-session form and session page: the agent and model checked as the chat
/// commands check them, the next turn's command line carrying the model, and a request that is
/// forged or signed out changing nothing.
async fn the_console_chooses_them_with_the_same_rules(db: Db) {
    let mut options = Options::new(db);
    options.extra_config = MODELS.to_owned();
    let t = Harness::start_with(options).await;
    t.wait_for_http().await;
    let mut web = WebClient::new(&t.web_url());
    assert_eq!(web.sign_in(WEB_ADMIN_TOKEN).await.0, StatusCode::OK);

    let (status, offered) = web.get("/api/agents/claude").await;
    assert_eq!(status, StatusCode::OK, "{offered}");
    assert_eq!(
        offered["models"],
        json!(["claude-opus-4-5", "claude-sonnet-4-5"])
    );
    let (status, refused) = web.get("/api/agents/gemini").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("gemini is not an agent"),
        "{refused}"
    );
    for (body, error) in [
        (
            json!({ "agent": "claude", "model": "gpt-4" }),
            "\"gpt-4\" is not one of claude's models",
        ),
        (json!({ "agent": "gemini" }), "gemini is not an agent"),
        (json!({ "model": "-x" }), "cannot be a model's name"),
    ] {
        let (status, refused) = web.post("/api/sessions", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {refused}");
        let said = refused["error"].as_str().unwrap();
        assert!(said.contains(error), "{body}: {said}");
    }
    let (status, made) = web
        .post(
            "/api/sessions",
            json!({ "agent": "claude", "model": "claude-sonnet-4-5" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let id = made["id"].as_str().unwrap().to_owned();
    let (_, detail) = web.get(&format!("/api/sessions/{id}")).await;
    assert_eq!(
        (&detail["session"]["agent"], &detail["session"]["model"]),
        (&json!("claude"), &json!("claude-sonnet-4-5"))
    );
    assert_eq!(detail["choices"]["models"], offered["models"]);

    web.prompt(&id, "first").await;
    web.wait_turn_done(&id, 0).await;
    let set = |model: Value| {
        let web = &web;
        let path = format!("/api/sessions/{id}/model");
        async move { web.post(&path, json!({ "model": model })).await }
    };
    let (status, refused) = set(json!("gpt-4")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("claude-opus-4-5, claude-sonnet-4-5"),
        "{refused}"
    );
    // Forged or signed out: refused, and nothing changes.
    let forged = web
        .post_forged(
            &format!("/api/sessions/{id}/model"),
            json!({ "model": "claude-opus-4-5" }),
            Forged {
                csrf: Some("wrong"),
                origin: None,
            },
        )
        .await;
    assert_eq!(forged.0, StatusCode::FORBIDDEN, "{}", forged.1);
    let stranger = WebClient::new(&t.web_url());
    for action in ["model", "agent"] {
        let (status, _) = stranger
            .post(
                &format!("/api/sessions/{id}/{action}"),
                json!({ "model": "claude-opus-4-5", "agent": "codex" }),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{action}");
    }
    let (_, detail) = web.get(&format!("/api/sessions/{id}")).await;
    assert_eq!(detail["session"]["model"], "claude-sonnet-4-5");

    let (status, done) = set(json!("claude-opus-4-5")).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert!(
        done["message"]
            .as_str()
            .unwrap()
            .contains("claude-opus-4-5"),
        "{done}"
    );
    web.prompt(&id, "second").await;
    web.wait_turn_done(&id, 1).await;
    let runs = t.agent_runs();
    assert_eq!(model_arg(&runs[0].argv), Some("claude-sonnet-4-5"));
    assert_eq!(model_arg(&runs[1].argv), Some("claude-opus-4-5"));
    assert_eq!(runs[1].resume_id(), Some(runs[0].session_id.as_str()));

    let (status, refused) = web
        .post(
            &format!("/api/sessions/{id}/agent"),
            json!({ "agent": "gemini" }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    let (status, done) = web
        .post(
            &format!("/api/sessions/{id}/agent"),
            json!({ "agent": "codex" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert!(
        done["message"]
            .as_str()
            .unwrap()
            .contains("from `claude` to `codex`"),
        "{done}"
    );
    let store = t.store().await;
    let session = store
        .session(&SessionId::from_string(id.clone()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (session.agent, session.model, session.agent_session_id),
        (AgentKind::Codex, None, None)
    );
    store.close().await;
    let audit = t
        .wait_audit(|rows| rows.iter().any(|r| r.action == "agent_switched"))
        .await;
    let switches: Vec<(&str, &str, &str)> = audit
        .iter()
        .filter(|r| r.action.ends_with("_switched"))
        .map(|r| (r.platform.as_str(), r.actor.as_str(), r.action.as_str()))
        .collect();
    assert_eq!(
        switches,
        [
            ("web", "admin", "model_switched"),
            ("web", "admin", "agent_switched")
        ]
    );
    t.assert_no_violations();
}
