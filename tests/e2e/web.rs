//! The web console over HTTP: the real binary's API with the fake agent on the sshd host —
//! sign-in, cookies, CSRF, who sees what, and web sessions that run prompts through the same
//! queue as any chat thread.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::db::{Db, on_both_databases};
use crate::support::harness::{Harness, Options, SWITCHBOARD, WEB_ADMIN_TOKEN};
use crate::support::screens::{assert_is_the_test_page, serve_page};
use crate::support::web_client::{Forged, WebClient};
use crate::workspaces::{add_config, gh, private_repo};

on_both_databases!(
    every_request_needs_a_sign_in_and_forgeries_are_refused,
    a_web_session_runs_prompts_like_any_thread,
    a_long_turn_is_stopped_and_queued_prompts_cancelled,
    other_users_sessions_are_hidden_and_other_platforms_read_only,
    the_first_start_prints_a_sign_in_link_that_survives_restarts,
    sessions_are_told_apart_and_the_icon_is_served,
    the_open_pr_button_opens_one_pull_request_and_then_updates_it,
);

/// A token for `name` from `switchboard web-token`, and the config entry it printed.
fn web_token(name: &str) -> (String, String) {
    let out = std::process::Command::new(SWITCHBOARD)
        .args(["web-token", name])
        .output()
        .expect("switchboard web-token");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let token = text
        .lines()
        .next()
        .and_then(|l| l.rsplit_once(": "))
        .map(|(_, token)| token.to_owned())
        .expect("the token line");
    let entry = text[text.find("[[web.users]]").expect("the entry")..].to_owned();
    (token, entry)
}

async fn start(db: Db) -> Harness {
    let t = Harness::start(db).await;
    t.wait_for_http().await;
    t
}

async fn admin(t: &Harness) -> WebClient {
    let mut web = WebClient::new(&t.web_url());
    let (status, _) = web.sign_in(WEB_ADMIN_TOKEN).await;
    assert_eq!(status, StatusCode::OK);
    web
}

async fn every_request_needs_a_sign_in_and_forgeries_are_refused(db: Db) {
    let t = start(db).await;
    let mut web = WebClient::new(&t.web_url());

    // The page itself is public (it holds no data) and locked down by its headers.
    let page = web.get_raw("/").await;
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert!(page.text().await.unwrap().contains("/assets/app.js"));

    for path in ["/api/me", "/api/sessions", "/api/hosts", "/api/events"] {
        assert_eq!(
            web.get_raw(path).await.status(),
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }
    let (status, _) = web.post("/api/sessions", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    web.cookie = Some("sb_session=made-up".into());
    assert_eq!(web.get("/api/me").await.0, StatusCode::UNAUTHORIZED);

    assert_eq!(web.sign_in("wrong-token").await.0, StatusCode::UNAUTHORIZED);
    let (status, _) = web
        .sign_in_from(WEB_ADMIN_TOKEN, Some("http://evil.example"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "sign-in from another site");
    let (status, cookie) = web.sign_in(WEB_ADMIN_TOKEN).await;
    assert_eq!(status, StatusCode::OK);
    let cookie = cookie.unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let (status, me) = web.get("/api/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (me["user"].as_str(), me["admin"].as_bool()),
        (Some("admin"), Some(true))
    );
    assert_eq!(me["hosts"], json!(["local", "remote"]));

    for (forged, why) in [
        (
            Forged {
                csrf: Some(""),
                origin: None,
            },
            "no CSRF token",
        ),
        (
            Forged {
                csrf: Some("wrong"),
                origin: None,
            },
            "a wrong CSRF token",
        ),
        (
            Forged {
                csrf: None,
                origin: Some("http://evil.example"),
            },
            "another site's origin",
        ),
    ] {
        let (status, body) = web.post_forged("/api/sessions", json!({}), forged).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{why}: {body}");
    }
    let (status, list) = web.get("/api/sessions").await;
    assert_eq!(
        (status, list["sessions"].as_array().unwrap().len()),
        (StatusCode::OK, 0)
    );
    web.new_session().await;

    let (status, _) = web.post("/api/logout", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        web.get("/api/me").await.0,
        StatusCode::UNAUTHORIZED,
        "signed out"
    );

    // Wrong tokens are throttled per address: five a minute (the first was `web`'s above),
    // then 429 — but the right token still signs in, and another address is unaffected.
    let mut guesser = WebClient::new(&t.web_url());
    for _ in 0..4 {
        assert_eq!(guesser.sign_in("guess").await.0, StatusCode::UNAUTHORIZED);
    }
    for _ in 0..2 {
        assert_eq!(
            guesser.sign_in("guess").await.0,
            StatusCode::TOO_MANY_REQUESTS
        );
    }
    assert_eq!(guesser.sign_in(WEB_ADMIN_TOKEN).await.0, StatusCode::OK);
    let mut elsewhere = WebClient::from_address(&t.web_url(), [127, 0, 0, 2].into());
    assert_eq!(
        elsewhere.sign_in("guess").await.0,
        StatusCode::UNAUTHORIZED,
        "another address has its own count"
    );
    assert_eq!(elsewhere.sign_in(WEB_ADMIN_TOKEN).await.0, StatusCode::OK);

    // Every refusal is audited: the first five from an address one by one, the rest counted
    // on one row; forgeries (three posts, one sign-in from another site) too.
    let times = |audit: &[switchboard::store::AuditRow], action: &str, actor: &str| -> i64 {
        audit
            .iter()
            .filter(|r| r.action == action && r.actor == actor)
            .map(|r| r.times)
            .sum()
    };
    let audit = t
        .wait_audit(|audit| times(audit, "sign-in refused", "127.0.0.1") == 7)
        .await;
    let rows = |action: &str, actor: &str| {
        audit
            .iter()
            .filter(|r| r.action == action && r.actor == actor)
            .count()
    };
    assert_eq!(rows("sign-in refused", "127.0.0.1"), 6, "{audit:#?}");
    assert_eq!(times(&audit, "sign-in refused", "127.0.0.2"), 1);
    assert_eq!(
        times(&audit, "forgery refused", "127.0.0.1"),
        4,
        "{audit:#?}"
    );
    assert!(
        audit
            .iter()
            .any(|r| r.action == "forgery refused" && r.detail.contains("evil.example")),
        "{audit:#?}"
    );
}

async fn a_web_session_runs_prompts_like_any_thread(db: Db) {
    let t = start(db).await;
    let web = admin(&t).await;
    let session = web.new_session().await;

    let mut events = web.get_raw("/api/events").await;
    assert_eq!(events.status(), StatusCode::OK);
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let first = events.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("event: ready"));

    web.prompt(&session, "@fake write a.txt hello\nhi there")
        .await;
    // The stream says so, without being asked.
    let changed = tokio::time::timeout(crate::support::harness::WAIT, async {
        loop {
            let chunk = events.chunk().await.unwrap().unwrap();
            if String::from_utf8_lossy(&chunk).contains("event: changed") {
                return;
            }
        }
    })
    .await;
    assert!(changed.is_ok(), "no change event");

    let turn = web.wait_turn_done(&session, 0).await;
    assert_eq!(turn["outcome"], "success");
    assert_eq!(turn["author"], "admin");
    let answer = turn["answer_html"].as_str().unwrap();
    assert!(answer.starts_with("<p>Echo #1: hi there</p>"), "{answer}");
    assert!(
        answer.contains("<code>a.txt</code> (new, +1 −0)"),
        "{answer}"
    );
    assert_eq!(
        turn["tool_calls"],
        json!([{ "name": "Write", "summary": "a.txt" }])
    );
    let patch = turn["patch"].as_str().unwrap();
    assert!(
        patch.contains("+++ b/a.txt") && patch.contains("+hello"),
        "{patch}"
    );
    let file = turn["files"][0]["url"].as_str().unwrap();
    let served = web.get_raw(file).await;
    assert_eq!(
        served.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    assert_eq!(served.text().await.unwrap(), patch);

    web.prompt(&session, "and again").await;
    let second = web.wait_turn_done(&session, 1).await;
    assert!(
        second["answer_html"]
            .as_str()
            .unwrap()
            .contains("Echo #2: and again")
    );
    let runs = t.wait_agent_runs(2).await;
    assert_eq!(runs[1].resume_id(), Some(runs[0].session_id.as_str()));

    let (_, list) = web.get("/api/sessions?platform=web").await;
    let item = &list["sessions"][0];
    assert_eq!(item["id"], session.as_str());
    assert_eq!(
        (item["state"].as_str(), item["turns"].as_i64()),
        (Some("idle"), Some(2))
    );
    assert!(item["cost_usd"].as_f64().unwrap() > 0.0);
    let (_, none) = web.get("/api/sessions?platform=telegram").await;
    assert_eq!(none["sessions"], json!([]));

    let (status, body) = web
        .post(
            &format!("/api/sessions/{session}/prompts"),
            json!({ "text": "  " }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // A screenshot of a page on the host arrives as a reply in the session, inline.
    let page = serve_page().await;
    let (status, body) = web
        .post(
            &format!("/api/sessions/{session}/screenshot"),
            json!({ "url": page }),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let shot = web
        .wait_session(&session, |d| {
            let file = d["replies"].get(0)?["files"].get(0)?;
            (file["image"] == true).then(|| file["url"].as_str().unwrap().to_owned())
        })
        .await;
    let served = web.get_raw(&shot).await;
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_is_the_test_page(&served.bytes().await.unwrap());
    let (status, _) = web
        .post(
            &format!("/api/sessions/{session}/screenshot"),
            json!({ "url": "file:///etc/passwd" }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = web
        .post("/api/sessions", json!({ "host": "nowhere" }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, hosts) = web.get("/api/hosts").await;
    assert_eq!(status, StatusCode::OK);
    let remote = hosts["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "remote")
        .unwrap();
    assert_eq!(remote["reachable"], true, "{remote}");
    // The session's own directory, with what it takes on the disk.
    let workspaces = remote["workspaces"].as_array().expect("workspaces");
    let own = workspaces
        .iter()
        .find(|w| w["session"] == session.as_str())
        .unwrap_or_else(|| panic!("the session's workspace in {remote}"));
    assert_eq!(own["path"], format!("scratch/{session}"));
    assert!(own["kib"].as_u64().is_some_and(|kib| kib > 0), "{own}");
    assert!(
        remote["agent_version"]
            .as_str()
            .unwrap()
            .contains("Claude Code")
    );
}

async fn a_long_turn_is_stopped_and_queued_prompts_cancelled(db: Db) {
    let t = start(db).await;
    let web = admin(&t).await;
    let session = web.new_session().await;

    web.prompt(&session, "@fake tool-sleep 60\nsomething long")
        .await;
    web.wait_session(&session, |d| {
        (d["turns"][0]["state"] == "running").then_some(())
    })
    .await;
    t.wait_agent_runs(1).await;
    web.prompt(&session, "waiting one").await;
    web.prompt(&session, "waiting two").await;
    web.wait_session(&session, |d| (d["session"]["queued"] == 2).then_some(()))
        .await;

    let (status, cancelled) = web
        .post(&format!("/api/sessions/{session}/cancel"), json!({}))
        .await;
    assert_eq!(
        (status, cancelled["dropped"].as_i64()),
        (StatusCode::OK, Some(2))
    );
    let (status, stopped) = web
        .post(&format!("/api/sessions/{session}/stop"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        stopped["message"].as_str().unwrap().contains("Stopped"),
        "{stopped}"
    );
    let turn = web.wait_turn_done(&session, 0).await;
    assert_eq!(turn["outcome"], "cancelled");
    let detail = web
        .wait_session(&session, |d| {
            let states: Vec<_> = d["turns"]
                .as_array()?
                .iter()
                .map(|t| t["state"].clone())
                .collect();
            (states == [json!("done"), json!("dropped"), json!("dropped")]).then(|| d.clone())
        })
        .await;
    assert_eq!(detail["session"]["state"], "idle");
    assert_eq!(detail["earlier_turns"], 0);
    assert_eq!(t.agent_runs().len(), 1, "the dropped prompts never ran");
}

async fn other_users_sessions_are_hidden_and_other_platforms_read_only(db: Db) {
    let (bob_token, entry) = web_token("bob");
    assert!(entry.contains(&sha256_hex(&bob_token)), "{entry}");
    assert!(
        !entry.contains(&bob_token),
        "only the hash goes in the config"
    );
    let mut options = Options::new(db);
    options.extra_config = entry;
    let t = Harness::start_with(options).await;
    t.wait_for_http().await;

    // A Telegram session, and a web session of the admin's.
    t.say("hello from telegram");
    t.next().await;
    t.next().await;
    let admin = admin(&t).await;
    let admins = admin.new_session().await;

    let mut bob = WebClient::new(&t.web_url());
    assert_eq!(bob.sign_in(&bob_token).await.0, StatusCode::OK);
    let (_, me) = bob.get("/api/me").await;
    assert_eq!(
        (me["user"].as_str(), me["admin"].as_bool()),
        (Some("bob"), Some(false))
    );
    let (_, list) = bob.get("/api/sessions").await;
    let seen: Vec<_> = list["sessions"].as_array().unwrap().iter().collect();
    assert_eq!(seen.len(), 1, "only the Telegram session: {list}");
    assert_eq!(seen[0]["platform"], "telegram");
    assert_eq!(seen[0]["can_act"], false);
    let telegram = seen[0]["id"].as_str().unwrap().to_owned();

    // The Telegram conversation is readable, not actionable.
    let (status, detail) = bob.get(&format!("/api/sessions/{telegram}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        detail["turns"][0]["answer_html"]
            .as_str()
            .unwrap()
            .contains("Echo #1: hello from telegram")
    );
    for action in ["stop", "cancel"] {
        let (status, _) = bob
            .post(&format!("/api/sessions/{telegram}/{action}"), json!({}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{action}");
    }
    let (status, _) = bob
        .post(
            &format!("/api/sessions/{telegram}/prompts"),
            json!({ "text": "hi" }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The admin's web session does not exist for Bob.
    assert_eq!(
        bob.get(&format!("/api/sessions/{admins}")).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, _) = bob
        .post(
            &format!("/api/sessions/{admins}/prompts"),
            json!({ "text": "hi" }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Nor do its files.
    admin
        .prompt(&admins, "@fake write b.txt secret\nkeep this")
        .await;
    let file = admin.wait_turn_done(&admins, 0).await["files"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(admin.get_raw(&file).await.status(), StatusCode::OK);
    assert_eq!(bob.get_raw(&file).await.status(), StatusCode::NOT_FOUND);

    // Bob's own session works, and the admin sees it.
    let bobs = bob.new_session().await;
    bob.prompt(&bobs, "bob's question").await;
    let turn = bob.wait_turn_done(&bobs, 0).await;
    assert_eq!(turn["author"], "bob");
    let (_, all) = admin.get("/api/sessions").await;
    assert_eq!(all["sessions"].as_array().unwrap().len(), 3);
    // An admin may not write into a Telegram thread from the console: that is Telegram's.
    let (status, _) = admin
        .post(
            &format!("/api/sessions/{telegram}/prompts"),
            json!({ "text": "hi" }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

async fn the_first_start_prints_a_sign_in_link_that_survives_restarts(db: Db) {
    let mut options = Options::new(db);
    options.web_token = None;
    let mut t = Harness::start_with(options).await;
    t.wait_for_http().await;
    let printed = |log: &str| -> Vec<String> {
        log.lines()
            .filter_map(|l| l.split("/#token=").nth(1))
            .map(|token| token.trim().to_owned())
            .collect()
    };
    let tokens = printed(&t.log());
    assert_eq!(tokens.len(), 1, "{}", t.log());
    let mut web = WebClient::new(&t.web_url());
    assert_eq!(web.sign_in(&tokens[0]).await.0, StatusCode::OK);
    assert_eq!(
        web.sign_in(WEB_ADMIN_TOKEN).await.0,
        StatusCode::UNAUTHORIZED
    );

    t.kill_bot();
    t.start_bot().await;
    t.wait_for_http().await;
    assert_eq!(
        printed(&t.log()).len(),
        1,
        "printed once, not at every start"
    );
    assert_eq!(
        web.get("/api/me").await.0,
        StatusCode::OK,
        "the sign-in outlives the restart"
    );
    let mut again = WebClient::new(&t.web_url());
    assert_eq!(again.sign_in(&tokens[0]).await.0, StatusCode::OK);
}

fn sha256_hex(text: &str) -> String {
    switchboard::web::auth::sha256_hex(text)
}

/// Sessions are told apart (issue 12, item 9): each is listed with the random end of its id —
/// the first 8 characters are the time it was made, the same for sessions made within a minute
/// — and titled by its first prompt on one line; a running turn's activity line (Markdown)
/// comes as HTML with its code as code; `/favicon.ico` is an icon, served without a sign-in.
async fn sessions_are_told_apart_and_the_icon_is_served(db: Db) {
    let t = start(db).await;
    let icon = WebClient::new(&t.web_url()).get_raw("/favicon.ico").await;
    assert_eq!(icon.status(), StatusCode::OK);
    assert_eq!(icon.headers()["content-type"], "image/x-icon");
    let bytes = icon.bytes().await.unwrap();
    assert_eq!(bytes[..4], [0, 0, 1, 0], "an ICO file");

    let web = admin(&t).await;
    let first = web.new_session().await;
    let second = web.new_session().await;
    // The agent holds on after its tool call until the test has seen it running (a fixed
    // sleep would end unseen on a loaded machine).
    let go = t.host_dir.path().join("go");
    web.prompt(
        &first,
        &format!(
            "  @fake tool-sleep 0\n  @fake wait-for {}\n  fix the\n\ntests  ",
            go.display()
        ),
    )
    .await;
    let activity = web
        .wait_session(&first, |d| {
            d["turns"].get(0)?["activity_html"]
                .as_str()
                .map(str::to_owned)
        })
        .await;
    assert!(activity.contains("<code>Bash</code>"), "{activity}");
    assert!(!activity.contains('`'), "{activity}");
    std::fs::write(&go, "").expect("let the agent finish");

    let (_, list) = web.get("/api/sessions?platform=web").await;
    let item = |id: &str| {
        list["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} in {list}"))
    };
    let (one, two) = (item(&first), item(&second));
    assert_eq!(
        one["title"],
        format!(
            "@fake tool-sleep 0 @fake wait-for {} fix the tests",
            go.display()
        )
    );
    assert_eq!(two["title"], serde_json::Value::Null, "no prompt yet");
    assert_eq!(one["short_id"], first[first.len() - 8..]);
    assert_eq!(two["short_id"], second[second.len() - 8..]);
    assert_ne!(one["short_id"], two["short_id"]);
    web.wait_turn_done(&first, 0).await;
}

/// The Open PR button's endpoint (issue 14): in a web session on the only project, it runs
/// `/pr` — the fake GitHub gets one pull request, the reply comes back and lands in the thread,
/// the session says which pull request is its — and a second call says the same one is
/// updated. Someone else's web session does not exist for a user who is not an admin, another
/// platform's is read-only for them, and a forged request is refused.
async fn the_open_pr_button_opens_one_pull_request_and_then_updates_it(db: Db) {
    let (bob_token, entry) = web_token("bob");
    let mut options = Options::new(db);
    options.github = Some(crate::support::harness::GitHubSetup::default());
    options.extra_config = entry;
    let mut t = Harness::prepare(options).await;
    let repo = private_repo(gh(&t), "acme", "web");
    add_config(&t, "\n[projects.web]\nrepo = \"acme/web\"\n");
    t.start_bot().await;
    t.wait_for_http().await;
    let web = admin(&t).await;
    let session = web.new_session().await;
    let (_, detail) = web.get(&format!("/api/sessions/{session}")).await;
    let workspace = &detail["session"]["workspace"];
    assert_eq!(workspace["project"], "web", "{detail}");
    let branch = workspace["branch"].as_str().unwrap().to_owned();
    assert!(branch.starts_with("switchboard/"), "{workspace}");
    assert_eq!(workspace["pr_url"], serde_json::Value::Null);

    web.prompt(&session, "add the feature\n@fake write feature.txt new")
        .await;
    web.wait_turn_done(&session, 0).await;
    let pr = format!("/api/sessions/{session}/pr");
    let (status, opened) = web.post(&pr, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{opened}");
    let message = opened["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "🔀 Committed the uncommitted work and pushed `{branch}` and opened pull request #"
        )),
        "{message}"
    );
    let prs = gh(&t).pull_requests(&repo);
    assert_eq!(prs.len(), 1, "{prs:#?}");
    assert_eq!(
        (prs[0].head_ref.as_str(), prs[0].title.as_str()),
        (branch.as_str(), "add the feature")
    );
    assert!(
        opened["html"]
            .as_str()
            .unwrap()
            .contains(&format!("pull request #{}", prs[0].number)),
        "{opened}"
    );
    let (_, detail) = web.get(&format!("/api/sessions/{session}")).await;
    let workspace = &detail["session"]["workspace"];
    assert_eq!(workspace["pr_number"], prs[0].number, "{workspace}");
    let url = workspace["pr_url"]
        .as_str()
        .expect("the pull request's URL");
    assert!(message.ends_with(url), "{message} / {url}");

    let (status, again) = web.post(&pr, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert!(
        again["message"]
            .as_str()
            .unwrap()
            .contains(&format!("its pull request #{} is updated", prs[0].number)),
        "{again}"
    );
    assert_eq!(gh(&t).pull_requests(&repo).len(), 1, "still one");
    // Both replies are in the thread, as a typed /pr's would be.
    let replies = web
        .wait_session(&session, |d| {
            let replies = d["replies"].as_array()?;
            (replies.len() == 2).then(|| replies.clone())
        })
        .await;
    assert!(
        replies[1]["html"].as_str().unwrap().contains("is updated"),
        "{replies:?}"
    );

    let mut bob = WebClient::new(&t.web_url());
    assert_eq!(bob.sign_in(&bob_token).await.0, StatusCode::OK);
    let (status, _) = bob.post(&pr, json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not Bob's session");
    // A Telegram session of the project: Bob sees it, and may not push it.
    t.say("/new");
    assert!(t.next().await.text.contains("New session"));
    let (_, list) = bob.get("/api/sessions?platform=telegram").await;
    let telegram = list["sessions"][0]["id"]
        .as_str()
        .expect("the Telegram session");
    let (status, _) = bob
        .post(&format!("/api/sessions/{telegram}/pr"), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a read-only session");
    let mut forger = WebClient::new(&t.web_url());
    assert_eq!(forger.sign_in(WEB_ADMIN_TOKEN).await.0, StatusCode::OK);
    let (status, _) = forger
        .post_forged(
            &pr,
            json!({}),
            Forged {
                csrf: Some("wrong"),
                origin: None,
            },
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a forged request");
    assert_eq!(gh(&t).pull_requests(&repo).len(), 1);
}
