//! Sessions' own directories, end to end: each thread about a project works in a worktree of the
//! project's one clone on the host, on a branch of its own, fetched from the fake GitHub's private
//! repository with an installation token that never lands on the host's disk or in the log.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::github::assert_tokens_kept_secret;
use crate::support::db::{Db, on_both_databases};
use crate::support::fake_github::{FakeGitHub, FakeRepo, UserKind};
use crate::support::fake_telegram::{BotMessage, FakeChat, UserMessage};
use crate::support::harness::{AgentRun, GitHubSetup, Harness, Options, WAIT};

on_both_databases!(
    two_topics_of_a_project_chat_work_at_once_in_worktrees_of_its_one_clone,
    new_with_owner_repo_at_branch_works_on_that_branch_and_keeps_the_token_off_the_host,
    pr_pushes_the_branch_as_the_person_and_later_turns_update_its_one_pull_request,
    a_bot_killed_between_push_and_pull_request_still_opens_exactly_one,
    a_project_that_always_opens_pull_requests_delivers_each_turn_that_changed_files,
);

/// The private repository's files at its first commit.
const REPO_FILES: &[(&str, &str)] = &[
    ("README.md", "the web app\n"),
    ("src/app.js", "console.log('hi');\n"),
];

pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    crate::support::git::git(dir, args).trim().to_owned()
}

pub(crate) fn gh(t: &Harness) -> &FakeGitHub {
    t.gh.as_ref().expect("the fake GitHub")
}

/// Everything set up with the GitHub App on and the bot not started yet.
pub(crate) async fn prepare(db: Db) -> Harness {
    let mut options = Options::new(db);
    options.github = Some(GitHubSetup::default());
    Harness::prepare(options).await
}

/// Appends `toml` to the bot's config (for sections that name chats the fake made after the
/// config was written).
pub(crate) fn add_config(t: &Harness, toml: &str) {
    std::fs::OpenOptions::new()
        .append(true)
        .open(&t.config_path)
        .expect("open the config")
        .write_all(toml.as_bytes())
        .expect("append to the config");
}

/// A private repository on the fake GitHub holding [`REPO_FILES`].
pub(crate) fn private_repo(gh: &FakeGitHub, owner: &str, name: &str) -> FakeRepo {
    gh.create_repo(owner, name, REPO_FILES)
}

/// A topic's turn as the chat shows it: its status, its answer and the patch after it.
pub(crate) async fn turn_in_topic(
    t: &Harness,
    group: &FakeChat,
    topic: i32,
) -> (BotMessage, BotMessage) {
    let status = t.tg.next_bot_message(group, Some(topic), WAIT).await;
    assert_eq!(status.thread_id, Some(topic));
    let answer = t.tg.next_bot_message(group, Some(topic), WAIT).await;
    let patch = t.tg.next_bot_message(group, Some(topic), WAIT).await;
    (answer, patch)
}

/// The run whose prompt holds `marker`.
pub(crate) fn run_with<'a>(runs: &'a [AgentRun], marker: &str) -> &'a AgentRun {
    runs.iter()
        .find(|r| String::from_utf8_lossy(&r.prompt).contains(marker))
        .unwrap_or_else(|| panic!("no run was asked {marker:?}: {runs:#?}"))
}

/// Files in `dir` git does not track (ignored ones aside).
fn untracked(dir: &Path) -> Vec<String> {
    git(dir, &["ls-files", "--others", "--exclude-standard"])
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Two forum topics of a supergroup whose chat defaults to the project `web`: a prompt in each
/// at the same time. Each runs in a worktree of its own under the project's `ws/`, sees the
/// repository's files, and changes, shows and sends only its own file; both branches are in the
/// one shared clone.
async fn two_topics_of_a_project_chat_work_at_once_in_worktrees_of_its_one_clone(db: Db) {
    let mut t = prepare(db).await;
    let gh = gh(&t);
    let repo = private_repo(gh, "acme", "web");
    let main = gh.branch_sha(&repo, "main").expect("main");
    let group = t.tg.supergroup("Web team", true);
    add_config(
        &t,
        &format!(
            "\n[projects.web]\nrepo = \"acme/web\"\ntelegram_chats = [{}]\n\n\
             [projects.other]\nrepo = \"acme/other\"\n",
            group.id
        ),
    );
    t.start_bot().await;
    let bot = t.tg.bot_username();
    let gate = t.host_dir.path().join("gate");
    let topics = [
        (t.tg.create_topic(&group, "one"), "one"),
        (t.tg.create_topic(&group, "two"), "two"),
    ];
    for (topic, name) in topics {
        t.tg.send(
            &group,
            &t.alice,
            UserMessage::new(format!(
                "@{bot} work on {name}\n@fake write {name}.txt by {name}\n@fake wait-for {}",
                gate.display()
            ))
            .in_thread(topic),
        );
    }
    // Both agents run before either may finish: the turns overlap.
    let runs = t.wait_agent_runs(2).await;
    std::fs::write(&gate, "go").expect("open the gate");

    let projects = t.host_dir.path().join("work/projects/web");
    let mut worktrees = Vec::new();
    for (topic, name) in topics {
        let (answer, patch) = turn_in_topic(&t, &group, topic).await;
        let other = if name == "one" { "two" } else { "one" };
        assert!(
            answer.text.starts_with(&format!("Echo #1: work on {name}")),
            "{}",
            answer.text
        );
        for line in [
            "Changes: 1 file, +1 −0",
            &format!("{name}.txt (new, +1 −0)"),
        ] {
            assert!(answer.text.contains(line), "{line:?} in {}", answer.text);
        }
        assert!(
            !answer.text.contains(&format!("{other}.txt")),
            "{}",
            answer.text
        );
        let document = patch.document.expect("the patch");
        let patch = String::from_utf8_lossy(&document.bytes);
        assert!(
            patch.contains(&format!("+++ b/{name}.txt\n"))
                && patch.contains(&format!("+by {name}")),
            "{patch}"
        );
        assert!(!patch.contains(&format!("{other}.txt")), "{patch}");

        let run = run_with(&runs, &format!("work on {name}"));
        assert!(
            run.cwd.starts_with(projects.join("ws")),
            "{} is not under {}",
            run.cwd.display(),
            projects.join("ws").display()
        );
        assert_eq!(untracked(&run.cwd), [format!("{name}.txt")]);
        assert!(!run.cwd.join(format!("{other}.txt")).exists());
        for (file, text) in REPO_FILES {
            assert_eq!(
                std::fs::read_to_string(run.cwd.join(file)).expect("the repository's file"),
                *text
            );
        }
        assert_eq!(git(&run.cwd, &["rev-parse", "HEAD"]), main);
        worktrees.push(run.cwd.clone());
    }
    assert_ne!(
        worktrees[0], worktrees[1],
        "each topic has its own directory"
    );

    let branches: BTreeSet<String> = worktrees
        .iter()
        .map(|dir| git(dir, &["branch", "--show-current"]))
        .collect();
    assert_eq!(branches.len(), 2, "{branches:?}");
    assert!(
        branches.iter().all(|b| b.starts_with("switchboard/")),
        "{branches:?}"
    );
    let in_clone: BTreeSet<String> = git(
        &projects.join("clone"),
        &["branch", "--format=%(refname:short)"],
    )
    .lines()
    .map(str::to_owned)
    .collect();
    assert_eq!(in_clone, branches, "both branches are in the one clone");
    assert!(
        !t.host_dir.path().join("work/projects/other").exists(),
        "the chat's project, not the other one"
    );
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// `/new owner/repo@branch` for a repository no project names: the next prompt runs in a
/// worktree of it at that branch, on a branch of the session's own, and no installation token
/// is on the host or in the log. A malformed branch and an unknown name are answered, and run
/// nothing.
async fn new_with_owner_repo_at_branch_works_on_that_branch_and_keeps_the_token_off_the_host(
    db: Db,
) {
    let mut t = prepare(db).await;
    let gh = gh(&t);
    private_repo(gh, "acme", "web");
    let repo = private_repo(gh, "octo", "app");
    let author = gh.user("octo", UserKind::User);
    let feature = gh.commit(
        &repo,
        "feature",
        &[("src/app.js", Some("console.log('feature');\n"))],
        "the feature",
        &author,
    );
    add_config(&t, "\n[projects.web]\nrepo = \"acme/web\"\n");
    t.start_bot().await;

    t.say("/new octo/app@feature");
    let reply = t.next().await.text;
    assert!(
        reply.starts_with("🆕 New session on remote, working on octo/app (branch switchboard/"),
        "{reply}"
    );
    assert!(reply.contains(" from feature)"), "{reply}");
    t.say("@fake write notes.txt seen\nlook at the feature");
    t.next().await;
    let answer = t.next().await;
    assert!(
        answer.text.starts_with("Echo #1: look at the feature"),
        "{}",
        answer.text
    );
    assert!(
        answer.text.contains("notes.txt (new, +1 −0)"),
        "{}",
        answer.text
    );
    let patch = t.next().await;
    assert!(patch.document.is_some(), "{}", patch.text);

    let run: PathBuf = t.wait_agent_runs(1).await[0].cwd.clone();
    let ws = t.host_dir.path().join("work/projects/github/octo/app/ws");
    assert!(run.starts_with(&ws), "{}", run.display());
    assert_eq!(git(&run, &["rev-parse", "HEAD"]), feature);
    let branch = git(&run, &["branch", "--show-current"]);
    assert!(branch.starts_with("switchboard/"), "{branch}");
    assert!(reply.contains(&branch), "{branch} in {reply}");
    assert_eq!(
        std::fs::read_to_string(run.join("src/app.js")).expect("the feature's file"),
        "console.log('feature');\n"
    );
    assert!(
        !t.host_dir.path().join("work/projects/web").exists(),
        "/new's repository, not the only project"
    );
    assert_tokens_kept_secret(&t);

    t.say("/new nope/x@bad..branch");
    assert_eq!(
        t.next().await.text,
        "nope/x@bad..branch is not owner/repo or owner/repo@branch (letters, digits, '-', '_' \
         and '.')."
    );
    t.say("/new unknown");
    assert_eq!(
        t.next().await.text,
        "There is no project or host named unknown. Projects: web. Hosts: local, remote."
    );
    assert_eq!(t.agent_runs().len(), 1, "neither ran anything");
    t.tg.assert_all_read();
}

/// The only project's session, its first turn done: the harness, the repository and the turn's
/// answer. `more_config` is appended to the bot's config after the project's table.
pub(crate) async fn a_turn_on_the_only_project(
    db: Db,
    more_config: &str,
) -> (Harness, FakeRepo, BotMessage) {
    let mut t = prepare(db).await;
    let repo = private_repo(gh(&t), "acme", "web");
    add_config(&t, "\n[projects.web]\nrepo = \"acme/web\"\n");
    add_config(&t, more_config);
    t.start_bot().await;
    t.say("add the feature\n@fake write feature.txt new");
    t.next().await;
    let answer = t.next().await;
    t.next().await; // the patch
    (t, repo, answer)
}

/// `/pr`: the uncommitted work is committed with the person who asked as author and pushed on
/// the session's branch, and one pull request is opened from it into the default branch with a
/// title from the first prompt; the audit says who asked. A later turn's `/pr` pushes again and
/// says the same pull request is updated.
async fn pr_pushes_the_branch_as_the_person_and_later_turns_update_its_one_pull_request(db: Db) {
    let (t, repo, answer) = a_turn_on_the_only_project(db, "").await;
    let gh = gh(&t);
    t.say("/pr");
    let reply = t.next().await.text;
    assert!(
        reply.starts_with("🔀 Committed the uncommitted work and pushed switchboard/")
            && reply.contains(" and opened pull request #"),
        "{reply}"
    );
    let prs = gh.pull_requests(&repo);
    assert_eq!(prs.len(), 1, "{prs:#?}");
    let pr = &prs[0];
    assert!(pr.head_ref.starts_with("switchboard/"), "{pr:?}");
    assert_eq!(
        (pr.base_ref.as_str(), pr.title.as_str()),
        ("main", "add the feature")
    );
    // The chat handle is shown, not a mention of a GitHub user.
    assert!(
        pr.body.contains("at the request of @\u{200b}alice.")
            && pr.body.contains("- @\u{200b}alice: add the feature"),
        "{}",
        pr.body
    );
    assert!(reply.contains(&format!("#{}", pr.number)), "{reply}");

    let bare = gh.bare_repo_path(&repo);
    let pushed = git(
        &bare,
        &["log", "-1", "--format=%an|%ae|%cn|%s", &pr.head_ref],
    );
    let subject = answer.text.lines().next().expect("an answer");
    assert_eq!(
        pushed,
        format!("alice|1001@telegram.invalid|Switchboard|{subject}")
    );
    let files = git(&bare, &["show", "--format=", "--name-only", &pr.head_ref]);
    assert_eq!(files, "feature.txt");
    t.wait_audit(|rows| {
        rows.iter().any(|r| {
            r.action == "branch_pushed"
                && r.actor == "1001"
                && r.detail
                    .contains("committing the uncommitted work as 1001@telegram.invalid")
                && r.detail.contains(&format!("pull request #{}", pr.number))
        })
    })
    .await;

    t.say("@fake write more.txt more\n@fake commit More\nand more");
    t.next().await;
    t.next().await;
    t.next().await;
    t.say("/pr");
    let reply = t.next().await.text;
    assert!(
        reply.starts_with("🔀 Pushed switchboard/")
            && reply.contains(&format!("its pull request #{} is updated", pr.number)),
        "{reply}"
    );
    let prs = gh.pull_requests(&repo);
    assert_eq!(prs.len(), 1, "still one pull request: {prs:#?}");
    let head = gh.branch_sha(&repo, &pr.head_ref).expect("the branch");
    assert_eq!(prs[0].head_sha, head, "the pull request follows its branch");
    // The agent's own commit is the prompting person's too.
    assert_eq!(
        git(&bare, &["log", "-1", "--format=%s|%an|%ae|%cn", &head]),
        "More|alice|1001@telegram.invalid|Switchboard"
    );
    let run = &t.agent_runs()[1];
    assert_eq!(git(&run.cwd, &["rev-parse", "HEAD"]), head);

    t.say("/pr");
    let again = t.next().await.text;
    assert!(again.contains("is updated"), "{again}");
    assert_eq!(gh.pull_requests(&repo).len(), 1);
    t.tg.assert_all_read();
}

/// The bot dies (kill -9) after pushing the branch and before GitHub opened the pull request:
/// the restarted bot handles the same `/pr` again and there is exactly one pull request.
async fn a_bot_killed_between_push_and_pull_request_still_opens_exactly_one(db: Db) {
    let (mut t, repo, _) = a_turn_on_the_only_project(db, "").await;
    gh(&t).hold_pull_creations();
    t.say("/pr");
    let held = gh(&t)
        .wait_for(WAIT, |gh| (gh.held_pull_creations() == 1).then_some(()))
        .await;
    assert!(held.is_some(), "the pull request was never asked for");
    let branch = gh(&t)
        .pushes()
        .into_iter()
        .find_map(|p| p.refname.strip_prefix("refs/heads/").map(str::to_owned))
        .expect("the branch was pushed before the pull request was asked for");
    t.kill_bot();
    // The creation the dead bot asked for never reaches GitHub.
    gh(&t).release_pull_creations(false);
    assert!(gh(&t).pull_requests(&repo).is_empty());
    t.start_bot().await;
    let reply = t.next().await.text;
    assert!(
        reply.starts_with(&format!("🔀 Pushed {branch} and opened pull request #")),
        "{reply}"
    );
    let prs = gh(&t).pull_requests(&repo);
    assert_eq!(prs.len(), 1, "{prs:#?}");
    assert_eq!(prs[0].head_ref, branch);
    t.tg.assert_all_read();
}

/// `open_pr = "always"`: a turn that changed files ends with its branch pushed and its pull
/// request opened (then updated), the link in the answer; a turn that changed nothing pushes
/// nothing.
async fn a_project_that_always_opens_pull_requests_delivers_each_turn_that_changed_files(db: Db) {
    let mut t = prepare(db).await;
    let repo = private_repo(gh(&t), "acme", "web");
    add_config(
        &t,
        "\n[projects.web]\nrepo = \"acme/web\"\nopen_pr = \"always\"\n\n[workspaces]\n\
         authors = { \"telegram:1001\" = \"Alice Example <alice@example.com>\" }\n",
    );
    t.start_bot().await;
    t.say("add the feature\n@fake write feature.txt new");
    t.next().await;
    let answer = t.next().await.text;
    t.next().await; // the patch
    let prs = gh(&t).pull_requests(&repo);
    assert_eq!(prs.len(), 1, "{prs:#?}");
    assert!(
        answer.contains(&format!(
            "Committed the uncommitted work and pushed {} and opened pull request #{}",
            prs[0].head_ref, prs[0].number
        )),
        "{answer}"
    );
    let pushes = gh(&t).pushes().len();
    // Alice is who the config says she is in git.
    let bare = gh(&t).bare_repo_path(&repo);
    assert_eq!(
        git(
            &bare,
            &["log", "-1", "--format=%an <%ae>", &prs[0].head_ref]
        ),
        "Alice Example <alice@example.com>"
    );

    t.say("just look around");
    t.next().await;
    let answer = t.next().await.text;
    assert_eq!(
        answer, "Echo #2: just look around",
        "nothing changed, nothing pushed"
    );
    assert_eq!(gh(&t).pushes().len(), pushes);

    t.say("more\n@fake write more.txt more");
    t.next().await;
    let answer = t.next().await.text;
    t.next().await;
    assert!(
        answer.contains(&format!("its pull request #{} is updated", prs[0].number)),
        "{answer}"
    );
    assert_eq!(gh(&t).pull_requests(&repo).len(), 1);
    t.tg.assert_all_read();
}
