//! `switchboard audit`: every finished turn with who, where, host, agent and model, prompt, tool
//! calls, files changed, cost, duration and outcome, and every refusal — as text or JSON.

use serde_json::Value;

use crate::support::db::{Db, on_both_databases};
use crate::support::harness::{Harness, WAIT};

on_both_databases!(the_trail_has_every_turn_and_refusal_in_full);

fn audit(t: &Harness, args: &[&str]) -> String {
    let out = tokio::task::block_in_place(|| t.cli(&[&["audit"], args].concat()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

async fn the_trail_has_every_turn_and_refusal_in_full(db: Db) {
    let t = Harness::start(db).await;
    // The sleep gives the turn a duration the agent can measure (a run can take under 1 ms).
    let prompt = "@fake tool Bash {\"command\":\"cargo test\"}\n@fake write notes.txt hello\n@fake sleep 0.05\nwrite the notes";
    t.say(prompt);
    t.next().await;
    t.next().await;
    t.next().await; // the patch
    t.wait_text("✅ Done").await;
    let mallory = t.tg.user(2002, "Mallory", Some("mallory"));
    let private = t.tg.private_chat(&mallory);
    t.tg.send_text(&private, &mallory, "let me in");
    t.tg.next_bot_message(&private, None, WAIT).await;

    let all: Vec<Value> = serde_json::from_str(&audit(&t, &["--json"])).expect("JSON");
    assert_eq!(all.len(), 2, "{all:#?}");
    let turn = &all[0];
    let run = &t.agent_runs()[0];
    assert_eq!(turn["kind"], "turn");
    assert_eq!(turn["platform"], "telegram");
    assert_eq!(turn["user_id"], "1001");
    assert_eq!(turn["user_name"], "@alice");
    assert_eq!(turn["thread"], t.chat.id.to_string());
    assert_eq!(turn["host"], "remote");
    assert_eq!(turn["agent"], "claude");
    assert!(
        turn["model"]
            .as_str()
            .is_some_and(|m| m.starts_with("claude")),
        "{turn}"
    );
    assert_eq!(turn["prompt"], prompt);
    assert_eq!(
        turn["prompt"].as_str().map(str::as_bytes),
        Some(run.prompt.as_slice())
    );
    let tools: Vec<(&str, &str)> = turn["tool_calls"]
        .as_array()
        .expect("tool calls")
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["summary"].as_str().unwrap()))
        .collect();
    assert_eq!(tools.len(), 2, "{tools:?}");
    assert_eq!(tools[0], ("Bash", "cargo test"));
    assert_eq!(tools[1].0, "Write");
    assert!(tools[1].1.contains("notes.txt"), "{tools:?}");
    assert_eq!(turn["files_changed"], serde_json::json!(["notes.txt"]));
    assert!(turn["cost_usd"].as_f64().is_some_and(|c| c > 0.0), "{turn}");
    assert!(
        turn["duration_ms"].as_i64().is_some_and(|d| d >= 50),
        "{turn}"
    );
    assert!(
        turn["input_tokens"].as_i64().is_some_and(|n| n > 0),
        "{turn}"
    );
    assert_eq!(turn["outcome"], "success");
    assert!(turn["at"].as_str().is_some_and(|a| a.ends_with('Z')));
    let refusal = &all[1];
    assert_eq!(refusal["kind"], "decision");
    assert_eq!(refusal["action"], "refused");
    assert_eq!(refusal["actor"], "2002");

    let alices: Vec<Value> =
        serde_json::from_str(&audit(&t, &["--json", "--user", "1001"])).expect("JSON");
    assert_eq!(alices.len(), 1);
    let later: Vec<Value> =
        serde_json::from_str(&audit(&t, &["--json", "--since", "2999-01-01"])).expect("JSON");
    assert!(later.is_empty());
    let text = audit(&t, &[]);
    assert!(text.contains("  > write the notes"), "{text}");
    assert!(text.contains("  tool Bash: cargo test"), "{text}");
    assert!(text.contains("  changed notes.txt"), "{text}");
    assert!(text.contains(" refused telegram 2002 "), "{text}");
    let bad = tokio::task::block_in_place(|| t.cli(&["audit", "--since", "last week"]));
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("YYYY-MM-DD"));
}
