//! Inbound webhook triggers: a body signed with the hook's secret queues the hook's prompt,
//! filled from the body, into its thread; an unsigned, wrongly signed or replayed one (or one
//! that is not a JSON object) is refused and audited, and queues nothing.

use ring::hmac;

use crate::support::db::{Db, on_both_databases};
use crate::support::harness::{Harness, Options};

on_both_databases!(a_signed_hook_queues_its_prompt_and_forged_or_replayed_ones_are_refused);

const SECRET: &str = "hook-secret-for-tests";

fn signature(body: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, SECRET.as_bytes());
    let tag = hmac::sign(&key, body.as_bytes());
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

async fn a_signed_hook_queues_its_prompt_and_forged_or_replayed_ones_are_refused(db: Db) {
    let mut t = Harness::prepare(Options::new(db)).await;
    let secret_file = t.config_path.with_file_name("hook-secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).expect("secret");
    let config = std::fs::read_to_string(&t.config_path).expect("config");
    let hook = format!(
        "\n[hooks.ci]\nsecret_file = {:?}\nplatform = \"telegram\"\nchat = \"{}\"\n\
         prompt = \"CI failed on {{{{branch}}}}: {{{{run.url}}}}\"\n",
        secret_file.display().to_string(),
        t.chat.id
    );
    std::fs::write(&t.config_path, config + &hook).expect("config");
    t.start_bot().await;
    t.wait_for_http().await;

    let url = format!("{}/hooks/ci", t.web_url());
    let http = reqwest::Client::new();
    let post = |body: &'static str, signature: Option<String>| {
        let mut request = http.post(&url).body(body);
        if let Some(signature) = signature {
            request = request.header("X-Hub-Signature-256", signature);
        }
        async move {
            request
                .send()
                .await
                .expect("the hook answers")
                .status()
                .as_u16()
        }
    };
    let body = r#"{"branch": "main", "run": {"url": "https://ci.example/1"}}"#;
    assert_eq!(post(body, Some(signature(body))).await, 202);
    t.next().await;
    assert_eq!(
        t.next().await.text,
        "Echo #1: CI failed on main: https://ci.example/1"
    );
    t.wait_text("✅ Done").await;

    assert_eq!(post(body, None).await, 401, "unsigned");
    assert_eq!(
        post(body, Some(signature("{}"))).await,
        401,
        "signed over another body"
    );
    assert_eq!(post(body, Some(signature(body))).await, 403, "replayed");
    assert_eq!(
        post("[1]", Some(signature("[1]"))).await,
        403,
        "not an object"
    );
    assert_eq!(post("{}", Some(signature("{}"))).await, 202, "another body");
    let audit = t
        .wait_audit(|rows| {
            rows.iter()
                .filter(|r| r.action == "webhook_rejected" && r.detail.starts_with("hook ci: "))
                .count()
                == 4
        })
        .await;
    let fired: Vec<_> = audit.iter().filter(|r| r.action == "hook_fired").collect();
    assert_eq!(fired.len(), 2, "{audit:#?}");
    assert!(fired.iter().all(|r| r.actor == "hook:ci"));
    for problem in [
        "no or a malformed",
        "does not match",
        "a replay",
        "not a JSON object",
    ] {
        assert!(
            audit.iter().any(|r| r.detail.contains(problem)),
            "{problem}: {audit:#?}"
        );
    }
    t.next().await;
    assert_eq!(t.next().await.text, "Echo #2: CI failed on (none): (none)");
    t.wait_text("✅ Done").await;
    assert_eq!(t.agent_runs().len(), 2);
    t.tg.assert_all_read();
    t.assert_no_violations();
}
