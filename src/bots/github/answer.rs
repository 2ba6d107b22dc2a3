//! How a turn's answer lands on GitHub: in the tracking comment, edited, with its files (the
//! patch) collapsed under the text, so watchers are notified once — by the comment that said
//! "Working on it" — and nothing arrives before the answer. Only what does not fit one comment
//! continues in comments of its own after it: the rest of a long answer, then the files that
//! did not fit.

use super::outlet::{COMMENT_ROOM, FILE_ROOM, attachment_block};
use crate::core::replies;
use crate::domain::outbound::Attachment;
use crate::render::markdown;

/// A turn's answer as comments: the tracking comment's new text, and what continues below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerComments {
    /// The tracking comment: the text (its first piece, when longer than a comment) and the
    /// files that fit with it.
    pub tracking: String,
    /// The rest of the text, for continuation comments (empty when it all fits).
    pub rest: String,
    /// The files that did not fit in the tracking comment, in order.
    pub files: Vec<Attachment>,
}

/// Lays `text` and its `files` out as [`AnswerComments`]. Files keep their order and follow
/// the whole text: once one does not fit whole (a file longer than [`FILE_ROOM`] is cut in a
/// comment of its own), it and every file after it continue below.
pub fn lay_out(text: &str, files: &[Attachment]) -> AnswerComments {
    let mut pieces = markdown::split(text, COMMENT_ROOM).into_iter();
    let first = pieces.next().unwrap_or_default();
    let rest: Vec<String> = pieces.collect();
    if !rest.is_empty() {
        return AnswerComments {
            tracking: format!("{first}\n\n{}", replies::continued_below()),
            rest: rest.join("\n\n"),
            files: files.to_vec(),
        };
    }
    let mut tracking = first;
    let mut fitted = 0;
    for file in files {
        // A file whose bytes are not at hand (one already queued) has its own comment, which
        // reads it when it is sent.
        let Some(bytes) = file.bytes() else {
            break;
        };
        let block = attachment_block(file, bytes);
        let whole = file.image || bytes.len() <= FILE_ROOM;
        if !whole || tracking.chars().count() + 2 + block.chars().count() > COMMENT_ROOM {
            break;
        }
        tracking = format!("{tracking}\n\n{block}");
        fitted += 1;
    }
    if fitted < files.len() {
        tracking = format!("{tracking}\n\n{}", replies::files_continue_below());
    }
    AnswerComments {
        tracking,
        rest: String::new(),
        files: files[fitted..].to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(bytes: usize) -> Attachment {
        let body: String = (0..bytes / 10).map(|i| format!("+line {i:03}\n")).collect();
        Attachment::text("turn-1.diff".into(), body, "The patch".into())
    }

    #[test]
    fn a_patch_that_fits_is_collapsed_under_the_answer() {
        let laid = lay_out("✅ Done\n\nThe answer.", &[patch(2_000)]);
        assert!(
            laid.tracking
                .starts_with("✅ Done\n\nThe answer.\n\n<details>")
        );
        assert!(laid.tracking.contains("```diff\n+line 000\n"));
        assert!(laid.tracking.ends_with("</details>"));
        assert_eq!(laid.rest, "");
        assert!(laid.files.is_empty());
    }

    #[test]
    fn a_patch_too_large_for_the_comment_continues_below_with_what_follows_it() {
        let image = Attachment::image("a.png".into(), vec![1], "a.png".into());
        let laid = lay_out("The answer.", &[patch(FILE_ROOM + 10), image.clone()]);
        assert_eq!(
            laid.tracking,
            format!("The answer.\n\n{}", replies::files_continue_below())
        );
        assert_eq!(laid.files, [patch(FILE_ROOM + 10), image]);
        assert!(laid.tracking.chars().count() <= COMMENT_ROOM);
    }

    #[test]
    fn files_of_a_long_answer_follow_its_last_piece() {
        let text = "word ".repeat(COMMENT_ROOM / 4);
        let laid = lay_out(&text, &[patch(100)]);
        assert!(laid.tracking.ends_with(&replies::continued_below()));
        assert!(!laid.rest.is_empty());
        assert_eq!(laid.files, [patch(100)]);
    }
}
