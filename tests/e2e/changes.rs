//! What a turn changed in its workspace, shown with the answer: a summary of the files and
//! commits, and the whole patch as a file — checked against `git diff` run independently.

use crate::support::db::{Db, on_both_databases};
use crate::support::git::git;
use crate::support::harness::{Harness, Options};
use crate::support::screens::Pixels;

on_both_databases!(
    a_turn_shows_its_changes_and_sends_the_patch,
    images_the_agent_makes_come_as_photos,
    a_workspace_without_git_says_so,
);

/// A 1×1 PNG.
const PIXEL_PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/// A 50×40 blue SVG.
const BLUE_SVG: &str = r#"<svg xmlns="http://www.w3.org/2000/svg" width="50" height="40"><rect width="50" height="40" fill="blue"/></svg>"#;

/// The agent edits, adds, renames and deletes files and commits part of it; the answer lists
/// each file with its counts and the commit, and the patch file is exactly `git diff` between
/// the workspace before and after.
async fn a_turn_shows_its_changes_and_sends_the_patch(db: Db) {
    let t = Harness::start(db).await;
    let work = t.open_session().await;
    git(&work, &["init", "-q"]);
    std::fs::write(work.join("a.txt"), "one\ntwo\n").unwrap();
    std::fs::write(work.join("b.txt"), "to be removed\n").unwrap();
    std::fs::write(work.join("old.txt"), "a file\nthat moves\nwhole\n").unwrap();
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-qm", "start"]);
    let start = git(&work, &["rev-parse", "HEAD"]).trim().to_owned();
    t.hand_over(&work);

    t.say(
        "@fake write a.txt one\\nthree\\nfour\n@fake commit Rewrite a\n@fake write new.txt fresh\n\
         @fake mv old.txt moved.txt\n@fake rm b.txt\ntidy up",
    );
    t.next().await;
    let answer = t.next().await;
    let patch = t.next().await;
    assert!(
        answer.text.starts_with("Echo #1: tidy up"),
        "{}",
        answer.text
    );
    for line in [
        "Changes: 4 files, +3 −2 · 1 new commit",
        "a.txt (+2 −1)",
        "new.txt (new, +1 −0)",
        "old.txt → moved.txt (+0 −0)",
        "b.txt (deleted)",
        "Rewrite a",
    ] {
        assert!(answer.text.contains(line), "{line:?} in {}", answer.text);
    }
    let document = patch.document.expect("the patch as a document");
    assert!(document.file_name.starts_with("turn-") && document.file_name.ends_with(".diff"));
    assert_eq!(patch.text, "The patch: 4 files changed.");

    // Independently: everything staged, compared with the commit the turn started from.
    git(&work, &["add", "-A"]);
    let expected = git(
        &work,
        &["diff", "--no-color", "--find-renames", "--cached", &start],
    );
    assert_eq!(String::from_utf8_lossy(&document.bytes), expected);
    assert_eq!(
        git(&work, &["log", "--format=%s", &format!("{start}..HEAD")]).trim(),
        "Rewrite a"
    );
    t.say("/status");
    let status = t.next().await.text;
    assert!(
        status.contains("· changed 4 files, +3 −2 · 1 new commit"),
        "{status}"
    );
    // Staged by the test above: the new, the moved and the deleted file.
    assert!(
        status.contains("Workspace: a directory of its own · branch main · 3 uncommitted files · "),
        "{status}"
    );
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// A workspace that is no repository: the first answer says so (no error, no file), later ones
/// do not repeat it.
async fn a_workspace_without_git_says_so(db: Db) {
    let mut options = Options::new(db);
    options.git_workspace = false;
    let t = Harness::start_with(options).await;
    t.say("@fake write notes.txt hi\nwrite it");
    t.next().await;
    let answer = t.next().await;
    assert_eq!(
        answer.text,
        "Echo #1: write it\n\nThe workspace is not a git repository, so its changes are not shown."
    );
    assert!(answer.document.is_none());
    t.say("@fake write notes.txt again\nand again");
    t.next().await;
    assert_eq!(t.next().await.text, "Echo #2: and again");
    t.tg.assert_all_read();
}

/// Images the agent writes during the turn come after the answer and the patch as photos: a PNG
/// byte for byte, an SVG rendered to PNG on the host; each captioned with its path.
async fn images_the_agent_makes_come_as_photos(db: Db) {
    let t = Harness::start(db).await;
    t.say(&format!(
        "@fake write-base64 out/pixel.png {PIXEL_PNG}\n@fake write out/chart.svg {BLUE_SVG}\n\
         draw a pixel and a chart"
    ));
    t.next().await;
    let answer = t.next().await;
    assert!(
        answer.text.contains("out/pixel.png (binary)"),
        "{}",
        answer.text
    );
    let patch = t.next().await;
    assert!(patch.document.is_some());
    // The SVG, rendered to PNG on the host at its own size.
    let chart = t.next().await;
    assert_eq!(chart.text, "out/chart.svg");
    let rendered = chart.photo.expect("the SVG as a photo");
    let pixels = Pixels::decode(&rendered.bytes);
    assert_eq!((pixels.width, pixels.height), (50, 40));
    // Blue all over, but for the anti-aliased edge.
    assert_eq!(pixels.count([0, 0, 255], (2, 2), (46, 36)), 46 * 36);
    let photo = t.next().await;
    let image = photo.photo.expect("a photo");
    assert_eq!((image.width, image.height), (1, 1));
    use base64::Engine;
    let expected = base64::engine::general_purpose::STANDARD
        .decode(PIXEL_PNG)
        .unwrap();
    assert_eq!(image.bytes.as_ref(), expected.as_slice());
    assert_eq!(photo.text, "out/pixel.png");
    t.tg.assert_all_read();
    t.assert_no_violations();
}
