//! Hosts: the per-host limit of concurrent turns, an unreachable host, and the command line
//! (`check`, `migrate`, `sessions list|show`, running without a config file).

use crate::support::db::{Db, on_both_databases};
use crate::support::harness::{Harness, Options, SWITCHBOARD, WAIT, free_port};

on_both_databases!(
    a_full_host_makes_turns_wait_for_a_slot,
    an_unreachable_host_is_told_and_checked,
    the_command_line_shows_sessions_turns_and_events,
);

/// `max_concurrent_turns = 1`: a second session's turn waits (and says so) until the first ends.
async fn a_full_host_makes_turns_wait_for_a_slot(db: Db) {
    let mut options = Options::new(db);
    options.host_slots = 1;
    let t = Harness::start_with(options).await;
    let bot = t.tg.bot_username();
    let group = t.tg.group("Ops");
    t.say("@fake sleep 5\nlong one");
    t.next().await;
    t.wait_agent_runs(1).await;
    t.tg.send_text(&group, &t.alice, &format!("@{bot} short one"));
    let waiting = t.tg.next_bot_message(&group, None, WAIT).await;
    let waiting =
        t.tg.wait_for_message(
            &group,
            |m| {
                m.message_id == waiting.message_id
                    && m.text.contains("Waiting for a free slot on host remote")
            },
            WAIT,
        )
        .await;
    assert!(
        waiting.text.contains("(1 turn is running there)"),
        "{}",
        waiting.text
    );
    assert_eq!(
        t.agent_runs().len(),
        1,
        "the second turn waits for the slot"
    );
    t.say("/status");
    let status = t.next().await.text;
    assert!(status.contains("State: running for"), "{status}");
    assert!(status.contains("Queue: 0 waiting"), "{status}");
    assert_eq!(t.next().await.text, "Echo #1: long one");
    assert_eq!(
        t.tg.next_bot_message(&group, None, WAIT).await.text,
        "Echo #1: short one"
    );
    let runs = t.agent_runs();
    assert_eq!(runs.len(), 2);
    t.tg.wait_for_message(&group, |m| m.text.starts_with("✅"), WAIT)
        .await;
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// A host nobody answers on: the prompt is told the host is unavailable, nothing is lost from
/// the session, and `check` names the host and what to fix.
async fn an_unreachable_host_is_told_and_checked(db: Db) {
    let mut options = Options::new(db);
    options.extra_config = format!(
        "\n[hosts.dead]\naddress = \"127.0.0.1:{port}\"\nuser = \"nobody\"\nkey_file = \"{key}\"\n\
         host_key = \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGFdpXaYg3Wz2ZmzLOJcc1DvxwbFWjrOUXAOMjSDJcRM\"\n\
         connect_timeout = \"2s\"\n",
        port = free_port(),
        key = "KEY_PLACEHOLDER",
    );
    let t = Harness::prepare(options).await;
    // The dead host uses the same (valid) client key as the live one.
    let config = std::fs::read_to_string(&t.config_path).unwrap().replace(
        "KEY_PLACEHOLDER",
        &t.sshd.client_key_path().display().to_string(),
    );
    std::fs::write(&t.config_path, config).unwrap();
    let mut t = t;
    t.start_bot().await;

    t.say("/new dead");
    assert!(t.next().await.text.contains("New session on dead"));
    let prompt = t.say("are you there?");
    t.next().await;
    let told = t.next().await;
    assert_eq!(told.reply_to, Some(prompt.message_id));
    assert!(
        told.text.contains("Host dead is unavailable"),
        "{}",
        told.text
    );
    assert!(told.text.contains("send it again"), "{}", told.text);
    t.wait_text("❌ Failed after").await;

    let check = t.cli(&["check"]);
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(!check.status.success(), "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.contains("host dead"))
        .expect("a line for host dead");
    assert!(
        line.starts_with("✗ host dead: host dead is unreachable"),
        "{line}"
    );
    assert!(line.contains("fix: check hosts.dead.address"), "{line}");
    assert!(
        stdout.lines().any(|l| l.starts_with("✓ host remote")),
        "{stdout}"
    );
    let web = format!(
        "✓ web: console on {}/; sign in with the configured admin token and 0 more user(s)",
        t.web_url()
    );
    assert!(stdout.lines().any(|l| l == web), "{stdout}");
    t.tg.assert_all_read();
}

/// `sessions list`, `sessions show` (by a short prefix) and `migrate` on the bot's database;
/// `migrate` and `sessions list` also work with no config file at all (SQLite in the cwd).
async fn the_command_line_shows_sessions_turns_and_events(db: Db) {
    let t = Harness::start(db).await;
    t.say("@fake tool Bash {\"command\":\"make check\"}\nbuild it");
    t.next().await;
    assert_eq!(t.next().await.text, "Echo #1: build it");
    t.wait_text("✅ Done").await;

    let out = t.cli(&["sessions", "list"]);
    assert!(out.status.success());
    let list = String::from_utf8_lossy(&out.stdout);
    let row = list.lines().nth(1).expect("one session row");
    assert!(
        row.contains("telegram") && row.contains("remote") && row.contains("idle"),
        "{list}"
    );
    let session_id = row.split_whitespace().next().unwrap();

    let out = t.cli(&["sessions", "show", &session_id[..13]]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let show = String::from_utf8_lossy(&out.stdout);
    assert!(
        show.contains(&format!("session     {session_id}")),
        "{show}"
    );
    assert!(show.contains("outcome success"), "{show}");
    assert!(show.contains("prompt: @fake tool Bash"), "{show}");
    assert!(
        show.contains("\"kind\":\"tool_use\"") && show.contains("make check"),
        "{show}"
    );
    let out = t.cli(&["sessions", "show", "no-such-session"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no session"));

    let out = t.cli(&["migrate"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));

    let cwd = tempfile::tempdir().unwrap();
    for args in [&["migrate"][..], &["sessions", "list"][..]] {
        let out = std::process::Command::new(SWITCHBOARD)
            .args(args)
            .current_dir(cwd.path())
            .env_remove("SWITCHBOARD_CONFIG")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(
        cwd.path().join("switchboard.db").exists(),
        "SQLite in the working directory"
    );
    t.tg.assert_all_read();
}
