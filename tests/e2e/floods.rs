//! Floods of forged requests at every HTTP entry point of the real binary — GitHub's webhook,
//! Slack's Events API and slash commands, Telegram's webhook, the console's sign-in — leave an
//! audit trail of a bounded number of rows that still accounts for every refusal, and lock
//! nobody out.

use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use serde_json::json;
use switchboard::store::AuditRow;

use crate::support::db::{Db, on_both_databases};
use crate::support::harness::{GitHubSetup, Harness, Options, WEB_ADMIN_TOKEN};
use crate::support::slack_world::SlackSetup;
use crate::support::web_client::WebClient;

on_both_databases!(
    forged_floods_leave_a_bounded_trail_that_counts_every_refusal,
    behind_a_trusted_proxy_each_forwarded_client_counts_apart,
);

/// Forged requests sent to each entry point.
const FLOOD: usize = 150;
/// The rows one source may leave in a minute: five refusals one by one, one counting row.
const ROWS_PER_SOURCE_AND_MINUTE: usize = 6;

async fn forged_floods_leave_a_bounded_trail_that_counts_every_refusal(db: Db) {
    let mut options = Options::new(db);
    options.github = Some(GitHubSetup::default());
    options.slack = Some(SlackSetup {
        events_api: true,
        ..SlackSetup::default()
    });
    options.webhook_secret = Some("the-telegram-secret".into());
    let t = Harness::start_with(options).await;
    let base = t.web_url();
    let http = reqwest::Client::new();

    let github = async {
        for n in 0..FLOOD {
            let answer = http
                .post(format!("{base}/github/webhook"))
                .header("X-GitHub-Event", "issue_comment")
                .header("X-GitHub-Delivery", format!("forged-{n}"))
                .header("X-Hub-Signature-256", format!("sha256={:064x}", n))
                // Without a trusted proxy configured, a claimed address counts for nothing.
                .header("X-Forwarded-For", format!("10.0.{}.{}", n / 256, n % 256))
                .body(r#"{"action":"created"}"#)
                .send()
                .await
                .expect("POST");
            assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
        }
    };
    let slack = async {
        for n in 0..FLOOD {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            // Events and slash commands alternate: both are Slack's endpoint.
            let path = if n % 2 == 0 {
                "slack/events"
            } else {
                "slack/commands"
            };
            let answer = http
                .post(format!("{base}/{path}"))
                .header("X-Slack-Request-Timestamp", now.as_secs().to_string())
                .header("X-Slack-Signature", format!("v0={:064x}", n))
                .body("token=x&command=%2Fswitchboard&text=status")
                .send()
                .await
                .expect("POST");
            assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
        }
    };
    let telegram = async {
        for n in 0..FLOOD {
            let answer = http
                .post(format!("{base}/telegram/webhook"))
                .header("X-Telegram-Bot-Api-Secret-Token", format!("guess-{n}"))
                .json(&json!({"update_id": n}))
                .send()
                .await
                .expect("POST");
            assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
        }
    };
    let sign_in = async {
        let mut guesser = WebClient::new(&base);
        for n in 0..FLOOD {
            let expected = if n < 5 {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::TOO_MANY_REQUESTS
            };
            assert_eq!(guesser.sign_in(&format!("guess-{n}")).await.0, expected);
        }
    };
    tokio::join!(github, slack, telegram, sign_in);

    // Every refusal is accounted for once the counts are written…
    let refusals = |audit: &[AuditRow], platform: &str, action: &str| -> Vec<AuditRow> {
        audit
            .iter()
            .filter(|r| r.platform == platform && r.action == action)
            .cloned()
            .collect()
    };
    let endpoints = [
        ("github", "webhook_rejected"),
        ("slack", "webhook_rejected"),
        ("telegram", "webhook_rejected"),
        ("web", "sign-in refused"),
    ];
    let counted = |rows: &[AuditRow]| rows.iter().map(|r| r.times).sum::<i64>();
    let audit = t
        .wait_audit(|audit| {
            endpoints
                .iter()
                .all(|(p, a)| counted(&refusals(audit, p, a)) == FLOOD as i64)
        })
        .await;
    // …on a handful of rows, each naming the source.
    for (platform, action) in endpoints {
        let rows = refusals(&audit, platform, action);
        assert!(
            rows.len() <= ROWS_PER_SOURCE_AND_MINUTE,
            "{platform}: {} rows for {FLOOD} refusals: {rows:#?}",
            rows.len()
        );
        assert!(rows.iter().all(|r| r.actor == "127.0.0.1"), "{rows:#?}");
        let counting = rows.iter().find(|r| r.times > 1).expect("a counting row");
        assert_eq!(counting.times, (FLOOD - 5) as i64, "{rows:#?}");
    }
    assert!(audit.len() <= endpoints.len() * ROWS_PER_SOURCE_AND_MINUTE);

    // `switchboard audit` shows the count.
    let printed = t.cli(&["audit"]);
    assert!(printed.status.success(), "{printed:?}");
    let printed = String::from_utf8_lossy(&printed.stdout);
    assert!(
        printed.contains(&format!("({} times)", FLOOD - 5)),
        "{printed}"
    );

    // Nobody is locked out: GitHub's signed deliveries and the right token still get in.
    let gh = t.gh.as_ref().expect("the fake GitHub");
    let ping = gh
        .deliver(&t.github_webhook(), "ping", gh.payload_ping())
        .await;
    assert_eq!(ping.status, 200, "{ping:?}");
    let mut admin = WebClient::new(&base);
    assert_eq!(admin.sign_in(WEB_ADMIN_TOKEN).await.0, StatusCode::OK);
    assert!(t.agent_runs().is_empty(), "nothing ran");
}

/// With the console behind a trusted reverse proxy (`http.trusted_proxies`), every request
/// comes from the proxy's address: the client it names in `X-Forwarded-For` is who is counted
/// and throttled, so one guesser behind the proxy cannot lock out everyone else behind it.
async fn behind_a_trusted_proxy_each_forwarded_client_counts_apart(db: Db) {
    let mut options = Options::new(db);
    options.http_toml = r#"trusted_proxies = ["127.0.0.1"]"#.into();
    let t = Harness::start_with(options).await;
    t.wait_for_http().await;
    let http = reqwest::Client::new();
    let sign_in = |forwarded: &'static str, token: &'static str| {
        http.post(format!("{}/api/login", t.web_url()))
            .header("X-Forwarded-For", forwarded)
            .json(&json!({ "token": token }))
            .send()
    };
    for _ in 0..5 {
        let answer = sign_in("198.51.100.7, 203.0.113.9", "guess").await.unwrap();
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    }
    let answer = sign_in("203.0.113.9", "guess").await.unwrap();
    assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
    let answer = sign_in("203.0.113.10", "guess").await.unwrap();
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "another client");
    let answer = sign_in("203.0.113.9", WEB_ADMIN_TOKEN).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK, "the right token");

    let audit = t
        .wait_audit(|audit| audit.iter().map(|r| r.times).sum::<i64>() == 7)
        .await;
    let by = |actor: &str| -> i64 {
        audit
            .iter()
            .filter(|r| r.action == "sign-in refused" && r.actor == actor)
            .map(|r| r.times)
            .sum()
    };
    assert_eq!(
        (by("203.0.113.9"), by("203.0.113.10"), by("127.0.0.1")),
        (6, 1, 0),
        "{audit:#?}"
    );
}
