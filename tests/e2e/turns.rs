//! A Telegram thread drives a durable agent session on an SSH host.

use crate::support::db::{Db, on_both_databases};
use std::time::Duration;

use crate::support::harness::{Harness, Options, WAIT};

on_both_databases!(
    prompt_progress_answer_resume_and_new,
    a_turn_is_three_commands_on_the_host,
);

/// Prompt → acknowledgement → progress → answer in the same chat; the second prompt resumes
/// the agent conversation from the first; after /new the next prompt starts a new one.
async fn prompt_progress_answer_resume_and_new(db: Db) {
    let t = Harness::start(db).await;

    let first = t.say("@fake tool Bash {\"command\":\"cargo test\"}\n@fake sleep 1.5\nhello there");
    let status = t.next().await;
    assert!(
        status.text.contains("Starting"),
        "acknowledged at once: {}",
        status.text
    );
    assert_eq!(status.reply_to, Some(first.message_id));
    let answer = t.next().await;
    assert_eq!(answer.text, "Echo #1: hello there");
    assert_eq!(answer.reply_to, Some(first.message_id));
    // The answer goes first; the status message then shows the outcome.
    let status = t.wait_status(&status, "✅ Done in").await;
    assert!(
        status
            .versions
            .iter()
            .any(|v| v.text.contains("Working on remote") && v.text.contains("cargo test")),
        "progress showed the tool call: {:#?}",
        status.versions
    );

    t.say("and again");
    t.next().await;
    let answer = t.next().await;
    assert_eq!(answer.text, "Echo #2: and again");
    let runs = t.agent_runs();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].resume_id(), None);
    assert_eq!(runs[1].resume_id(), Some(runs[0].session_id.as_str()));

    t.say("/new");
    let reply = t.next().await;
    assert!(
        reply.text.contains("New session on remote"),
        "{}",
        reply.text
    );
    t.say("fresh start");
    t.next().await;
    assert_eq!(t.next().await.text, "Echo #1: fresh start");
    let runs = t.agent_runs();
    assert_eq!(runs[2].resume_id(), None);
    assert_ne!(runs[2].session_id, runs[0].session_id);
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// What a command the bot ran on the host was.
fn kind_of(command: &str) -> String {
    let kind = if command.contains("setsid -f") {
        "launch"
    } else if command.contains(">> \"$p.followers\"") {
        "follow"
    } else if command.contains("stat -c %s") {
        "end"
    } else if command.starts_with("rm -f --") {
        "cleanup"
    } else if command.contains("-mmin +") {
        "sweep"
    } else {
        return format!("other: {}", command.lines().next().unwrap_or(""));
    };
    kind.to_owned()
}

/// A turn costs its host three commands before the answer: the launch (which also takes the
/// workspace's change baseline), the follow, and one read of everything at its end — the exit
/// status, the output left, the end of stderr and the changes. Its files are removed after.
async fn a_turn_is_three_commands_on_the_host(db: Db) {
    let mut options = Options::new(db);
    options.record_commands = true;
    let t = Harness::start_with(options).await;
    t.say("@fake write notes.txt hi\nwrite it");
    t.next().await;
    let answer = t.next().await;
    assert!(
        answer.text.contains("notes.txt (new, +1 −0)"),
        "{}",
        answer.text
    );
    let deadline = tokio::time::Instant::now() + WAIT;
    let kinds = loop {
        let kinds: Vec<String> = t
            .sshd
            .commands()
            .iter()
            .map(|c| kind_of(c))
            .filter(|k| k != "sweep")
            .collect();
        if kinds.iter().any(|k| k == "cleanup") {
            break kinds;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no cleanup: {kinds:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(kinds, ["launch", "follow", "end", "cleanup"]);
    t.tg.assert_all_read();
}
