//! Photos and files users send: stored in the session's workspace inbox on the real sshd host,
//! byte for byte, with their paths in the agent's prompt; files over the limits are refused
//! with nothing run.

use base64::Engine;

use crate::support::db::{Db, on_both_databases};
use crate::support::fake_telegram::UserMessage;
use crate::support::harness::{Harness, Options};

on_both_databases!(
    a_photo_and_a_document_reach_the_agent_in_its_inbox,
    files_over_the_limits_are_refused_and_nothing_runs,
);

/// A 1×1 PNG.
const PIXEL_PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/// The one inbox path a prompt lists.
fn inbox_path(prompt: &str) -> String {
    let path = prompt
        .lines()
        .find_map(|l| l.strip_prefix("- "))
        .unwrap_or_else(|| panic!("no file in the prompt: {prompt}"));
    path.trim_end_matches(')').to_owned()
}

async fn a_photo_and_a_document_reach_the_agent_in_its_inbox(db: Db) {
    let t = Harness::start(db).await;
    let png = base64::engine::general_purpose::STANDARD
        .decode(PIXEL_PNG)
        .unwrap();

    t.tg.send(
        &t.chat,
        &t.alice,
        UserMessage::new("what is in this picture?").with_photo(png.clone()),
    );
    t.next().await;
    let answer = t.next().await;
    let runs = t.wait_agent_runs(1).await;
    // The session's own directory, under the host's workdir.
    let work = runs[0].cwd.clone();
    assert!(
        work.starts_with(t.host_dir.path().join("work/scratch")),
        "{}",
        work.display()
    );
    let prompt = String::from_utf8(runs[0].prompt.clone()).unwrap();
    let path = inbox_path(&prompt);
    assert!(
        path.starts_with(".switchboard/inbox/") && path.ends_with("/photo.jpg"),
        "{path}"
    );
    assert_eq!(
        prompt,
        format!(
            "what is in this picture?\n\n(Files the user sent with this message, saved in the \
             workspace:\n- {path})"
        )
    );
    assert_eq!(std::fs::read(work.join(&path)).unwrap(), png);
    assert_eq!(
        std::fs::read_to_string(work.join(".switchboard/.gitignore")).unwrap(),
        "*\n"
    );
    // The inbox is git-ignored: not a change the turn made.
    assert!(answer.text.starts_with("Echo #1: what is in this picture?"));
    assert!(!answer.text.contains("Changes:"), "{}", answer.text);

    // A document without a caption, its name made safe for the path.
    t.tg.send(
        &t.chat,
        &t.alice,
        UserMessage::new("").with_document("notes v2.txt", "first line\nsecond\n"),
    );
    t.next().await;
    t.next().await;
    let runs = t.wait_agent_runs(2).await;
    let prompt = String::from_utf8(runs[1].prompt.clone()).unwrap();
    let path = inbox_path(&prompt);
    assert!(path.ends_with("/notes_v2.txt"), "{path}");
    assert_eq!(
        prompt,
        format!("The user sent these files, saved in the workspace:\n- {path}")
    );
    assert_eq!(
        std::fs::read_to_string(work.join(&path)).unwrap(),
        "first line\nsecond\n"
    );
    assert!(runs[1].resumed, "the file continues the conversation");
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// A file over `max_file_mb` is refused before anything is fetched; one over Telegram's own
/// 20 MB download limit is refused by Telegram. Either way the user is told, and nothing runs.
async fn files_over_the_limits_are_refused_and_nothing_runs(db: Db) {
    let mut options = Options::new(db);
    options.defaults_toml = "max_file_mb = 25".to_owned();
    let t = Harness::start_with(options).await;

    t.tg.send(
        &t.chat,
        &t.alice,
        UserMessage::new("read this").with_document("big.log", vec![b'x'; 26 * 1024 * 1024]),
    );
    assert_eq!(
        t.next().await.text,
        "📎 big.log is larger than 25 MB, the most I take; nothing was sent to the agent. Send a \
         smaller file, or put it on the host another way."
    );
    t.tg.send(
        &t.chat,
        &t.alice,
        UserMessage::new("and this").with_document("dump.bin", vec![0u8; 21 * 1024 * 1024]),
    );
    let refused = t.next().await;
    assert!(
        refused
            .text
            .starts_with("📎 I could not download dump.bin:")
            && refused.text.contains("file is too big")
            && refused
                .text
                .ends_with("Nothing was sent to the agent; please send it again."),
        "{}",
        refused.text
    );
    t.say("still here?");
    t.next().await;
    assert!(t.next().await.text.starts_with("Echo #1: still here?"));
    let runs = t.agent_runs();
    assert_eq!(runs.len(), 1);
    assert!(!runs[0].cwd.join(".switchboard").exists());
    t.tg.assert_all_read();
    t.assert_no_violations();
}
