//! A Telegram thread drives a durable agent session on an SSH host.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use switchboard::runner::ssh::{HostKeyPolicy, SshSettings, SshTransport};
use switchboard::runner::transport::Transport;

use crate::support::db::{Db, on_both_databases};
use crate::support::harness::{Harness, Options, WAIT};

on_both_databases!(
    prompt_progress_answer_resume_and_new,
    a_turn_is_three_commands_on_the_host,
);

/// Prompt → acknowledgement → progress → answer in the same chat; the second prompt resumes
/// the agent conversation from the first; after /new the next prompt starts a new one.
async fn prompt_progress_answer_resume_and_new(db: Db) {
    let t = Harness::start(db).await;

    // The agent holds on after its tool call until the progress has shown it.
    let go = t.host_dir.path().join("go");
    let first = t.say(&format!(
        "@fake tool Bash {{\"command\":\"cargo test\"}}\n@fake wait-for {}\nhello there",
        go.display()
    ));
    let status = t.next().await;
    assert!(
        status.text.contains("Starting"),
        "acknowledged at once: {}",
        status.text
    );
    assert_eq!(status.reply_to, Some(first.message_id));
    t.tg.wait_for_message(
        &t.chat,
        |m| {
            m.message_id == status.message_id
                && m.text.contains("Working on remote")
                && m.text.contains("cargo test")
        },
        WAIT,
    )
    .await;
    std::fs::write(&go, "").unwrap();
    let answer = t.next().await;
    assert_eq!(answer.text, "Echo #1: hello there");
    assert_eq!(answer.reply_to, Some(first.message_id));
    // The answer goes first; the status message then shows the outcome.
    t.wait_status(&status, "✅ Done in").await;

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

/// The umask a command run over SSH on the test host gets: the host's usual one.
async fn host_umask(t: &Harness) -> u32 {
    let key = russh::keys::load_secret_key(t.sshd.client_key_path(), None).expect("client key");
    let host_key =
        russh::keys::PublicKey::from_openssh(&t.sshd.host_public_key()).expect("host key");
    let ssh = SshTransport::new(SshSettings {
        name: "umask".into(),
        address: t.sshd.address(),
        user: t.sshd.user().into(),
        key: Arc::new(key),
        host_keys: HostKeyPolicy::Pinned(vec![host_key]),
        connect_timeout: Duration::from_secs(10),
        keepalive_interval: Duration::from_secs(15),
        keepalive_max: 3,
        max_channels_per_connection: 8,
    });
    let out = ssh.exec("umask", b"").await.expect("umask over SSH");
    u32::from_str_radix(out.stdout_text().trim(), 8).expect("an octal umask")
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// The turn's own files on the host (prompt, output, pid) are private to the host user, while
/// what the agent writes in the workspace gets the host's usual umask — not the wrapper's 077.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_writes_with_the_hosts_umask_and_the_turns_files_stay_private() {
    let t = Harness::start(Db::Sqlite).await;
    let umask = host_umask(&t).await;
    assert_ne!(
        umask & 0o077,
        0o077,
        "the test host's umask ({umask:o}) would make every file private anyway"
    );
    t.say("@fake write notes.txt hello\n@fake sleep 60\nwrite the notes");
    t.next().await;
    let notes = t.wait_agent_runs(1).await[0].cwd.join("notes.txt");
    let turns = t.host_dir.path().join("state/turns");
    let turn_files = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(&turns)
            .map(|dir| dir.map(|e| e.expect("entry").path()).collect())
            .unwrap_or_default()
    };
    // Written by the agent, and by the launch once the agent is on its way.
    let launched = |files: &[std::path::PathBuf]| {
        files
            .iter()
            .any(|f| f.extension().is_some_and(|x| x == "launched"))
    };
    let deadline = tokio::time::Instant::now() + WAIT;
    while !notes.exists() || !launched(&turn_files()) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no notes.txt from the agent, or no launch marker: {:?}",
            turn_files()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        mode(&notes),
        0o666 & !umask,
        "notes.txt: host umask {umask:o}"
    );
    // With no permission mode configured, the real CLI may edit files too.
    let argv = &t.agent_runs()[0].argv;
    assert!(
        argv.windows(2)
            .any(|w| w == ["--permission-mode", "acceptEdits"]),
        "{argv:?}"
    );

    assert_eq!(mode(&turns), 0o700);
    let files = turn_files();
    for suffix in ["prompt", "out", "err", "pid", "launched"] {
        let file = files
            .iter()
            .find(|f| f.extension().is_some_and(|x| x == suffix))
            .unwrap_or_else(|| panic!("no .{suffix} file in {files:?}"));
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    t.say("/stop");
    t.wait_text("Stopped").await;
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
