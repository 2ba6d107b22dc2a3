//! Turning Markdown into what each chat platform accepts.
//!
//! The agent answers in Markdown and the bot writes its own replies in Markdown too, so Markdown is
//! the one source format; each platform module owns the translation to its markup and its message
//! size rules. Text the bot did not write (host names, error messages, what the user typed) goes
//! through [`escape_markdown`] before being put into one of those replies, so that a `*` or a `<`
//! in it can neither change the formatting nor reach a platform's markup parser unescaped.
//! The other reader is the agent: [`untrusted`] fences text others wrote in its prompts.

mod blocks;
mod delimited;
pub mod discord;
pub mod markdown;
#[cfg(test)]
mod random_markdown;
pub mod slack;
pub mod telegram;
pub mod untrusted;

/// Escapes text so that CommonMark renders it literally (used when the bot puts host names,
/// error messages, user text into its own Markdown replies).
///
/// Every ASCII punctuation character gets a backslash (CommonMark allows that for all of them,
/// which is simpler to trust than a list of "special" ones), and spaces or tabs at the start or end
/// of a line become numeric character references, because CommonMark would otherwise strip them or
/// read them as an indented code block or a hard break. What cannot be kept: an empty line still
/// separates paragraphs, so runs of empty lines render as one, and empty lines at the very start or
/// end vanish.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for (index, line) in text.split('\n').enumerate() {
        if index > 0 {
            out.push('\n');
        }
        let body = line.trim_start_matches([' ', '\t']);
        let content = body.trim_end_matches([' ', '\t']);
        push_whitespace_references(&mut out, &line[..line.len() - body.len()]);
        for c in content.chars() {
            if c.is_ascii_punctuation() {
                out.push('\\');
            }
            out.push(c);
        }
        push_whitespace_references(&mut out, &body[content.len()..]);
    }
    out
}

/// Writes spaces and tabs as `&#32;` / `&#9;`, which CommonMark decodes to the same characters
/// but does not treat as indentation or trailing whitespace.
fn push_whitespace_references(out: &mut String, whitespace: &str) {
    for c in whitespace.chars() {
        match c {
            '\t' => out.push_str("&#9;"),
            _ => out.push_str("&#32;"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::escape_markdown;
    use super::random_markdown::{Rng, document};
    use super::telegram::{MESSAGE_LIMIT, render};
    use super::{discord, markdown, slack, telegram};

    fn rendered_plain(markdown: &str) -> String {
        render(markdown, MESSAGE_LIMIT)
            .into_iter()
            .map(|part| part.plain)
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    #[test]
    fn escaped_text_renders_literally() {
        let nasty = [
            "*a*",
            "_b_",
            "`c`",
            "[x](y)",
            "# h",
            "1. x",
            "- x",
            "+ x",
            "> q",
            "<b>",
            "<script>alert('x')</script>",
            "&amp;",
            "&#65; &copy;",
            "\\",
            "a\\b\\\\c\\*",
            "|t|",
            "| a | b |\n|---|---|\n| 1 | 2 |",
            "**bold** and __under__ ~~gone~~",
            "***",
            "---",
            "Title\n===",
            "    indented code",
            "\tTab start",
            "trailing spaces  \nnext line",
            "two\nlines",
            "two paragraphs\n\nhere",
            "line with only spaces\n   \nafter",
            "![img](http://x/y.png)",
            "<http://auto.link>",
            "host-1.example.com:22",
            "error: `cargo` failed (exit 101) [see log] {x} #3 !",
            "😀 emoji, 中文, \u{200f}rtl\u{200e}",
            "a < b && c > d",
            "\"quoted\" 'single'",
            "~tilde~ ^caret^ =eq= @at $dollar % ?",
            "",
        ];
        for s in nasty {
            assert_eq!(
                rendered_plain(&escape_markdown(s)),
                s,
                "escaped: {:?}",
                escape_markdown(s)
            );
        }
    }

    #[test]
    fn escaping_is_needed_at_all() {
        // Guards the test above: without escaping, these really do change when rendered.
        for s in [
            "*a*", "# h", "&amp;", "    x", "[x](y)", "- x", "2) x", "a\\*b",
        ] {
            assert_ne!(rendered_plain(s), s);
        }
    }

    #[test]
    fn escaped_text_keeps_no_markup_when_embedded() {
        let reply = format!("Host **{}** is unreachable", escape_markdown("*evil* <b>&"));
        let parts = render(&reply, MESSAGE_LIMIT);
        assert_eq!(parts.len(), 1);
        assert_eq!(
            parts[0].html,
            "Host <b>*evil* &lt;b&gt;&amp;</b> is unreachable"
        );
    }

    /// The non-whitespace characters of `text`, in order.
    fn visible_chars(text: &str) -> Vec<char> {
        text.chars().filter(|c| !c.is_whitespace()).collect()
    }

    /// Whether `small` appears in `big` in order (gaps allowed).
    fn is_subsequence(small: &[char], big: &[char]) -> bool {
        let mut big = big.iter();
        small.iter().all(|c| big.any(|b| b == c))
    }

    /// Random Markdown (see `random_markdown`) through all four renderers at many limits: every
    /// piece respects its limit as its platform counts it, no piece is blank, and GitHub's
    /// pieces, which stay Markdown, keep every character of the source in order.
    #[test]
    fn every_piece_of_every_renderer_respects_its_limit() {
        let mut sizes = Rng::new(7);
        for seed in 0..300 {
            let doc = document(seed);
            let limit = [20, 40, 100, 300, 1000, 3000][sizes.below(6)];
            let context = || format!("seed {seed}, limit {limit}: {doc:?}");

            let pieces = markdown::split(&doc, limit);
            for piece in &pieces {
                assert!(
                    piece.chars().count() <= limit,
                    "GitHub {} chars; {}",
                    piece.chars().count(),
                    context()
                );
            }
            let joined: Vec<char> = pieces.iter().flat_map(|p| visible_chars(p)).collect();
            assert!(
                is_subsequence(&visible_chars(&doc), &joined),
                "GitHub lost text; {}",
                context()
            );

            for part in telegram::render(&doc, limit) {
                assert!(
                    telegram::visible_len(&part.plain) <= limit,
                    "Telegram; {}",
                    context()
                );
                assert!(
                    !part.plain.trim().is_empty(),
                    "Telegram blank part; {}",
                    context()
                );
            }
            for part in slack::render(&doc, limit) {
                assert!(part.mrkdwn.chars().count() <= limit, "Slack; {}", context());
                assert!(
                    !part.mrkdwn.trim().is_empty(),
                    "Slack blank part; {}",
                    context()
                );
            }
            for part in discord::render(&doc, limit) {
                assert!(
                    part.content.chars().count() <= limit,
                    "Discord; {}",
                    context()
                );
                assert!(
                    !part.content.trim().is_empty(),
                    "Discord blank part; {}",
                    context()
                );
            }
        }
    }

    /// The case that produced 392 pieces and 1.5 MB from 4 kB: a fence whose opening line is
    /// longer than the limit.
    #[test]
    fn a_fence_longer_than_the_limit_still_gives_pieces_within_it() {
        let doc = format!("```{}\n{}\n```", "x".repeat(600), "line\n".repeat(700));
        let pieces = markdown::split(&doc, 500);
        assert!(pieces.iter().all(|p| p.chars().count() <= 500));
        assert!(pieces.len() < 20, "{} pieces", pieces.len());
    }
}
