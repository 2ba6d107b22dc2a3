//! Markdown to Slack mrkdwn, cut into messages Slack shows whole.
//!
//! Slack's rules, and what they force on this module:
//! - `chat.postMessage` truncates a `text` over 40,000 characters and recommends staying under
//!   4,000; a section block takes at most 3,000. Messages are cut at [`MESSAGE_LIMIT`] characters
//!   of *markup* (escapes, delimiters and link URLs count, since that is what Slack receives).
//!   Slack does not say whether it counts code points or UTF-16 units; this module counts Unicode
//!   scalar values (Rust `char`s), and even counted in UTF-16 (astral emoji twice) a part stays
//!   far below the 40,000 that would truncate it.
//! - `&`, `<` and `>` are Slack's control characters: `<…>` is a link, a mention (`<@U123>`) or
//!   a broadcast (`<!channel>`). Every one of them in the text becomes `&amp;`, `&lt;`, `&gt;`, so
//!   text from the agent can neither ping nor link anywhere; links are written only from Markdown
//!   links, to `http`, `https` or `mailto` URLs (others show their text).
//! - mrkdwn has no backslash escape. A literal `*`, `_`, `~` that could pair up with another is
//!   replaced with a look-alike (`∗` U+2217, `ˍ` U+02CD, `∼` U+223C), as jsx-slack does, and a
//!   backtick always (`ˋ` U+02CB), fullwidth `＊`, `＿`, `｀` too. Slack ignores these characters
//!   between two letters or digits (`snake_case`, `2*3`), so those stay as typed, and so do
//!   bare `http(s)://` URLs, which Slack links itself. A `>` at the start of a line would quote
//!   it even escaped, so it gets an invisible soft hyphen (U+00AD) before it. `@channel`,
//!   `@here` and `@everyone` get a zero-width space after the `@`, should the message ever be
//!   sent with `link_names`.
//! - Slack honours `*bold*`, `_italic_` and `~strike~` only at word boundaries, and not around
//!   whitespace: styled text touching a letter outside gets a zero-width space (U+200B) between,
//!   and spaces at its edges move outside the delimiters. Styles never span a line end.
//! - No headings, lists, tables, images or rules: headings are bold lines, list items start with
//!   `•` or their number, tables are code blocks with aligned columns, images are links to the
//!   image, a rule is a line of em dashes. Code blocks have no language: it is dropped. Inline
//!   code is never bold or italic, a link's text is plain, and quotes do not nest (see
//!   [`super::blocks`]).
//!
//! Splitting follows the shared rules of [`super::blocks`]: whole blocks first, then a line, a
//! sentence, a space, a character; a code block cut in two is closed in one message and reopened
//! in the next. Output is deterministic.

use super::blocks::Style;
use super::delimited::{self, Context, Dialect, ZWSP, bare_url_len, mentions, push_code};

/// The most characters of mrkdwn per message: the most a section block takes, so the same parts
/// fit into blocks; a long answer is easier to follow (and to copy code from) in messages of
/// that size, and it is well under Slack's recommended 4,000 and hard 40,000.
pub const MESSAGE_LIMIT: usize = 3000;

/// URL schemes that become links; others (`javascript:`, `slack:`, relative paths) show their text.
const LINK_SCHEMES: [&str; 3] = ["http", "https", "mailto"];

/// Invisible, and stops a `>` from starting a quote at the beginning of a line.
const SOFT_HYPHEN: char = '\u{AD}';

/// One Slack message worth of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The message `text`, in mrkdwn.
    pub mrkdwn: String,
    /// The visible text of `mrkdwn` with no markup, e.g. for a notification. Not escaped: Slack
    /// reads `&`, `<`, `>` in any text field, so it goes through [`escape`] before being sent.
    pub plain: String,
}

/// Renders Markdown to mrkdwn split into messages of at most `limit` characters of mrkdwn (see
/// the module doc for how they are counted). Returns no parts for empty or whitespace-only input;
/// no part is empty or whitespace-only. A `limit` below 5 (the longest escape) is treated as 5.
pub fn render(markdown: &str, limit: usize) -> Vec<Part> {
    delimited::render(&Mrkdwn, markdown, &LINK_SCHEMES, limit)
        .into_iter()
        .map(|(mrkdwn, plain)| Part { mrkdwn, plain })
        .collect()
}

/// Escapes Slack's control characters `&`, `<`, `>`, so that `text` shows as written (bar
/// formatting characters) and cannot mention or link.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_escaped(c, &mut out);
    }
    out
}

fn push_escaped(c: char, out: &mut String) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        _ => out.push(c),
    }
}

/// A look-alike for a character mrkdwn could read as formatting.
fn look_alike(c: char) -> Option<char> {
    Some(match c {
        '*' => '\u{2217}',
        '_' => '\u{2CD}',
        '~' => '\u{223C}',
        '`' | '｀' => '\u{2CB}',
        '＊' => '\u{FE61}',
        '＿' => '\u{2E0F}',
        _ => return None,
    })
}

struct Mrkdwn;

impl Dialect for Mrkdwn {
    /// `&amp;`, or a soft hyphen and `&gt;`.
    const MAX_CHAR_LEN: usize = 5;
    const WORD_BOUNDED: bool = true;

    fn heading_prefix(&self, _level: u8) -> Option<&'static str> {
        None
    }

    fn delimiter(&self, style: &Style) -> &'static str {
        match style {
            Style::Italic => "_",
            Style::Strike => "~",
            _ => "*",
        }
    }

    fn fence(&self, _lang: Option<&str>, out: &mut String) {
        out.push_str("```");
    }

    fn code_line(&self, line: &str, out: &mut String) {
        push_code(line, out, push_escaped);
    }

    fn code_span(&self, code: &str, out: &mut String) {
        out.push('`');
        for c in code.chars() {
            match c {
                '`' => out.push('\u{2CB}'),
                _ => push_escaped(c, out),
            }
        }
        out.push('`');
    }

    fn link(&self, url: &str, label: Option<&str>, out: &mut String) {
        out.push('<');
        for c in url.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                _ => delimited::push_url_char(c, out),
            }
        }
        if let Some(label) = label {
            out.push('|');
            out.push_str(label);
        }
        out.push('>');
    }

    fn text(&self, text: &str, context: Context, out: &mut String) {
        let chars: Vec<char> = text.chars().collect();
        let mut line_start = context.line_start;
        let mut url_end = 0;
        for (index, &c) in chars.iter().enumerate() {
            let prev = match index {
                0 => context.prev,
                _ => Some(chars[index - 1]),
            };
            if index >= url_end {
                url_end = index + bare_url_len(&chars, index, prev);
            }
            let intraword = prev.is_some_and(char::is_alphanumeric)
                && chars
                    .get(index + 1)
                    .is_some_and(|next| next.is_alphanumeric());
            match c {
                '>' if line_start => {
                    out.push(SOFT_HYPHEN);
                    out.push_str("&gt;");
                }
                '*' | '_' | '~' if intraword || index < url_end => out.push(c),
                '@' => {
                    out.push('@');
                    if mentions(&chars[index + 1..], &["channel", "here", "everyone"]) {
                        out.push(ZWSP);
                    }
                }
                _ => match look_alike(c) {
                    Some(look_alike) => out.push(look_alike),
                    None => push_escaped(c, out),
                },
            }
            line_start &= c == ' ';
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::delimited::bare_url_len;
    use super::super::delimited::testing::{
        assert_content_kept, assert_parts, generated_markdown, visible,
    };
    use super::{MESSAGE_LIMIT, Part, escape, render};

    const ZWSP: char = '\u{200B}';

    /// Decodes Slack's three entities; any other `&`, and any `<` or `>`, is an error.
    fn decode(text: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            let (decoded, len) = match c {
                '&' if rest.starts_with("&amp;") => ('&', 5),
                '&' if rest.starts_with("&lt;") => ('<', 4),
                '&' if rest.starts_with("&gt;") => ('>', 4),
                '&' | '<' | '>' => return Err(format!("bare {c} in {text:?}")),
                _ => (c, c.len_utf8()),
            };
            out.push(decoded);
            rest = &rest[len..];
        }
        Ok(out)
    }

    /// The characters this module writes for literal formatting characters, back to what they
    /// stand for.
    fn fold(text: &str) -> String {
        text.chars()
            .filter(|c| !matches!(*c, ZWSP | '\u{AD}'))
            .map(|c| match c {
                '\u{2217}' => '*',
                '\u{2CD}' => '_',
                '\u{223C}' => '~',
                '\u{2CB}' | '｀' => '`',
                '\u{FE61}' => '＊',
                '\u{2E0F}' => '＿',
                _ => c,
            })
            .collect()
    }

    /// A strict model of mrkdwn for one line outside code blocks: the visible text, or why Slack
    /// would show something else (a stray or unclosed delimiter, a bare control character, a link
    /// to a scheme Slack should not get, a mention).
    fn inline(line: &str) -> Result<String, String> {
        let chars: Vec<char> = line.chars().collect();
        let word = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric());
        let mut visible = String::new();
        let mut open: Vec<char> = Vec::new();
        let mut i = 0;
        while let Some(&c) = chars.get(i) {
            let prev = i.checked_sub(1).and_then(|p| chars.get(p));
            let next = chars.get(i + 1);
            // Slack links bare URLs before it formats, up to the end of the style around them.
            let url = chars[i..i + bare_url_len(&chars, i, prev.copied())]
                .iter()
                .take_while(|c| !open.contains(c))
                .count();
            if url > 0 {
                visible.push_str(&decode(&chars[i..i + url].iter().collect::<String>())?);
                i += url;
                continue;
            }
            match c {
                '<' => {
                    let len = chars[i..]
                        .iter()
                        .position(|c| *c == '>')
                        .ok_or("unclosed <")?;
                    let inner: String = chars[i + 1..i + len].iter().collect();
                    let (url, label) = inner.split_once('|').unwrap_or((&inner, ""));
                    let scheme = url.split(':').next().unwrap_or("").to_ascii_lowercase();
                    if !["http", "https", "mailto"].contains(&scheme.as_str())
                        || url.contains(char::is_whitespace)
                    {
                        return Err(format!("bad link <{inner}>"));
                    }
                    let shown = if inner.contains('|') { label } else { url };
                    visible.push_str(&decode(shown)?);
                    i += len + 1;
                    continue;
                }
                '`' => {
                    let len = chars[i + 1..]
                        .iter()
                        .position(|c| *c == '`')
                        .ok_or("unclosed `")?;
                    let code: String = chars[i + 1..i + 1 + len].iter().collect();
                    visible.push_str(&decode(&code)?);
                    i += len + 2;
                    continue;
                }
                '*' | '_' | '~' if !(word(prev) && word(next)) => {
                    let closes = open.last() == Some(&c)
                        && prev.is_some_and(|p| !p.is_whitespace())
                        && !word(next);
                    let opens = !word(prev)
                        && next.is_some_and(|n| !n.is_whitespace())
                        && !open.contains(&c);
                    if closes {
                        open.pop();
                    } else if opens {
                        open.push(c);
                    } else {
                        return Err(format!("stray {c} in {line:?}"));
                    }
                }
                '&' | '>' => {
                    let len = chars[i..].iter().position(|c| *c == ';').unwrap_or(0) + 1;
                    let entity: String = chars[i..i + len].iter().collect();
                    visible.push_str(&decode(&entity)?);
                    i += len;
                    continue;
                }
                _ => visible.push(c),
            }
            i += 1;
        }
        if !open.is_empty() {
            return Err(format!("unclosed {open:?} in {line:?}"));
        }
        if line.trim_start_matches(' ').starts_with("&gt;") {
            return Err(format!("{line:?} would be a quote"));
        }
        Ok(fold(&visible))
    }

    fn check(mrkdwn: &str) -> Result<String, String> {
        visible(mrkdwn, false, inline, |code| decode(code).map(|c| fold(&c)))
    }

    /// Renders and asserts what must hold for every output.
    fn checked(markdown: &str, limit: usize) -> Vec<Part> {
        let parts = render(markdown, limit);
        let pairs: Vec<(&str, &str)> = parts
            .iter()
            .map(|p| (p.mrkdwn.as_str(), p.plain.as_str()))
            .collect();
        assert_parts(markdown, limit, 5, &pairs, check, fold);
        assert_eq!(render(markdown, limit), parts, "not deterministic");
        parts
    }

    fn one(markdown: &str) -> Part {
        let mut parts = checked(markdown, MESSAGE_LIMIT);
        assert_eq!(parts.len(), 1, "{parts:#?}");
        parts.remove(0)
    }

    fn mrkdwn(markdown: &str) -> String {
        one(markdown).mrkdwn
    }

    fn plains(parts: &[Part]) -> Vec<String> {
        parts.iter().map(|part| part.plain.clone()).collect()
    }

    #[test]
    fn checker_rejects_bad_mrkdwn() {
        for bad in [
            "a < b",
            "a & b",
            "a > b",
            "*bold",
            "bold*",
            "_a *b_ c*",
            "x *y *",
            "<!channel>",
            "<@U123>",
            "<javascript:x|y>",
            "`code",
            "```\ncode",
            "&nbsp;",
            "> ```\ncode\n> ```",
        ] {
            assert!(check(bad).is_err(), "checker accepted {bad:?}");
        }
        assert_eq!(
            check("> *a* _b_ <https://e.com|l &amp; m> `&lt;`\n```\nx &gt; y\n```"),
            Ok("a b l & m <\nx > y".to_owned())
        );
    }

    #[test]
    fn escape_control_characters() {
        assert_eq!(
            escape("<!channel> & <@U1> > *"),
            "&lt;!channel&gt; &amp; &lt;@U1&gt; &gt; *"
        );
    }

    #[test]
    fn empty_input_gives_no_parts() {
        for input in ["", "   ", "\n\n\t\n", "\r\n", "```\n```", "> "] {
            assert_eq!(render(input, MESSAGE_LIMIT), Vec::new(), "{input:?}");
        }
    }

    #[test]
    fn inline_styles() {
        assert_eq!(
            mrkdwn("*i* _i_ **b** __b__ ~~s~~ `c`"),
            "_i_ _i_ *b* *b* ~s~ `c`"
        );
        assert_eq!(one("**b** and `c`").plain, "b and c");
    }

    #[test]
    fn nested_styles() {
        assert_eq!(mrkdwn("***both***"), "_*both*_");
        assert_eq!(
            mrkdwn("**bold *italic ~~struck~~* bold**"),
            "*bold _italic ~struck~_ bold*"
        );
        // Inline code is never bold: the bold closes around it.
        assert_eq!(mrkdwn("**a `c` b**"), "*a* `c` *b*");
        // Adjacent styles are kept apart.
        assert_eq!(mrkdwn("**a**_b_"), "*a*\u{200B}_b_");
    }

    #[test]
    fn styles_inside_words_get_boundaries() {
        assert_eq!(mrkdwn("un**believ**able"), "un\u{200B}*believ*\u{200B}able");
        assert_eq!(mrkdwn("a`b`c"), "a\u{200B}`b`\u{200B}c");
        assert_eq!(mrkdwn("(**x**)"), "(*x*)");
    }

    #[test]
    fn spaces_and_line_ends_stay_outside_styles() {
        assert_eq!(mrkdwn("**a *b* c**"), "*a _b_ c*");
        assert_eq!(mrkdwn("*a **b***"), "_a *b*_");
        assert_eq!(mrkdwn("**one\ntwo**"), "*one*\n*two*");
        assert_eq!(
            mrkdwn("[a\nb](https://e.com)"),
            "<https://e.com|a>\n<https://e.com|b>"
        );
    }

    #[test]
    fn links_are_escaped_and_filtered() {
        assert_eq!(
            mrkdwn("[x](https://e.com/?a=1&b=2)"),
            "<https://e.com/?a=1&amp;b=2|x>"
        );
        assert_eq!(
            mrkdwn("[x](<https://e.com/a b|c>)"),
            "<https://e.com/a%20b%7Cc|x>"
        );
        assert_eq!(mrkdwn("[a < b](https://e.com)"), "<https://e.com|a &lt; b>");
        assert_eq!(mrkdwn("[tap](javascript:alert(1))"), "tap");
        assert_eq!(
            mrkdwn("[s](slack://open) [r](docs/x.md) [t](tg://x)"),
            "s r t"
        );
        assert_eq!(
            mrkdwn("[**bold** link](HTTPS://E.com) [m](mailto:a@b.c)"),
            "<HTTPS://E.com|bold link> <mailto:a@b.c|m>"
        );
        assert_eq!(mrkdwn("**[x](https://e.com)**"), "*<https://e.com|x>*");
        assert_eq!(mrkdwn("[](https://e.com)"), "<https://e.com>");
    }

    #[test]
    fn autolinks_and_images() {
        assert_eq!(
            mrkdwn("<https://e.com/a?b&c> and <me@example.com>"),
            "<https://e.com/a?b&amp;c> and <mailto:me@example.com|me@example.com>"
        );
        assert_eq!(
            mrkdwn("![a *cat*](https://e.com/cat.png)"),
            "<https://e.com/cat.png|a cat>"
        );
        assert_eq!(mrkdwn("![alt](javascript:x)"), "alt");
    }

    #[test]
    fn control_characters_are_escaped() {
        let input = "<script>alert('x')</script> and a < b && c > d";
        assert_eq!(
            mrkdwn(input),
            "&lt;script&gt;alert('x')&lt;/script&gt; and a &lt; b &amp;&amp; c &gt; d"
        );
        assert_eq!(one(input).plain, input);
        assert_eq!(mrkdwn("`a < b && c`"), "`a &lt; b &amp;&amp; c`");
        assert_eq!(mrkdwn("&lt; &amp; &#65;"), "&lt; &amp; A");
    }

    #[test]
    fn mentions_and_broadcasts_cannot_reach_slack() {
        let input = "Hi <!channel> and <!here|here>, <@U123> <#C1> <!subteam^S1> <!date^1^{x}|d>";
        let part = one(input);
        assert_eq!(part.plain, input);
        for raw in ["<!", "<@", "<#"] {
            assert!(!part.mrkdwn.contains(raw), "{raw} in {:?}", part.mrkdwn);
        }
        assert!(
            part.mrkdwn
                .starts_with("Hi &lt;!channel&gt; and &lt;!here|here&gt;, &lt;@U123&gt;")
        );
        // Escaped by the bot, or inside code or links, just the same.
        let embedded = format!(
            "Host **{}** said `<@U1>`",
            super::super::escape_markdown("<!channel>")
        );
        let part = one(&embedded);
        assert!(
            !part.mrkdwn.contains("<!") && !part.mrkdwn.contains("<@"),
            "{part:?}"
        );
        assert_eq!(
            mrkdwn("[<!channel>](https://e.com)"),
            "<https://e.com|&lt;!channel&gt;>"
        );
        assert_eq!(
            mrkdwn("@channel @Here @everyone, mail a@example.com"),
            "@\u{200B}channel @\u{200B}Here @\u{200B}everyone, mail a@example.com"
        );
    }

    #[test]
    fn literal_formatting_characters_are_neutralised() {
        assert_eq!(mrkdwn("\\*not bold\\*"), "\u{2217}not bold\u{2217}");
        assert_eq!(
            mrkdwn("\\_a\\_ \\~b\\~ \\`c\\`"),
            "\u{2CD}a\u{2CD} \u{223C}b\u{223C} \u{2CB}c\u{2CB}"
        );
        // Between letters or digits Slack ignores them: they stay as typed.
        assert_eq!(
            mrkdwn("snake_case_name and 2\\*3\\*4 and a~b"),
            "snake_case_name and 2*3*4 and a~b"
        );
        assert_eq!(mrkdwn("__init__.py"), "*init*.py");
        assert_eq!(
            mrkdwn("\\_\\_init\\_\\_.py"),
            "\u{2CD}\u{2CD}init\u{2CD}\u{2CD}.py"
        );
        assert_eq!(mrkdwn("＊x＊ ｀y｀"), "\u{FE61}x\u{FE61} \u{2CB}y\u{2CB}");
        // Slack links bare URLs itself: they stay whole.
        assert_eq!(
            mrkdwn("see https://e.com/a_b_/c*d~ now"),
            "see https://e.com/a_b_/c*d~ now"
        );
        // A `>` starting a line would quote it.
        assert_eq!(
            mrkdwn("\\> not a quote\nnor \\> this"),
            "\u{AD}&gt; not a quote\nnor &gt; this"
        );
        assert_eq!(mrkdwn("- a\n  \\> b"), "• a\n  \u{AD}&gt; b");
    }

    #[test]
    fn fenced_code() {
        assert_eq!(
            mrkdwn("```rust\nfn main() {}\n```"),
            "```\nfn main() {}\n```"
        );
        assert_eq!(
            mrkdwn("```\n<b> & *x* _y_\n\n  z\n```"),
            "```\n&lt;b&gt; &amp; *x* _y_\n\n  z\n```"
        );
        assert_eq!(
            mrkdwn("````md\n```\ninner\n```\n````"),
            "```\n`\u{200B}`\u{200B}`\ninner\n`\u{200B}`\u{200B}`\n```"
        );
        assert_eq!(mrkdwn("`` a`b ``"), "`a\u{2CB}b`");
        assert_eq!(
            mrkdwn("text\n\n    indented < code\n"),
            "text\n\n```\nindented &lt; code\n```"
        );
    }

    #[test]
    fn headings_paragraphs_and_rules() {
        assert_eq!(
            mrkdwn("# Title *it*\n\npara one\nsoft\n\n## Sub **bold**\n\n---\n\nend"),
            "*Title _it_*\n\npara one\nsoft\n\n*Sub bold*\n\n——————\n\nend"
        );
    }

    #[test]
    fn lists() {
        assert_eq!(
            mrkdwn("- a\n- **b**\n  - c\n    - d\n- [ ] todo\n- [x] done"),
            "• a\n• *b*\n  • c\n    • d\n☐ todo\n☑ done"
        );
        assert_eq!(mrkdwn("7. a\n8. b"), "7. a\n8. b");
        assert_eq!(
            mrkdwn("- item\n\n  ```sh\n  ls\n  ```"),
            "• item\n```\nls\n```"
        );
    }

    #[test]
    fn block_quotes() {
        assert_eq!(
            mrkdwn("> quoted **bold**\n> more\n\nafter"),
            "> quoted *bold*\n> more\n\nafter"
        );
        assert_eq!(
            mrkdwn("> see:\n>\n> ```rust\n> let a = b && c;\n> ```\n>\n> done `x`"),
            "> see:\n> \n> ```\n> let a = b &amp;&amp; c;\n> ```\n> \n> done `x`"
        );
        assert_eq!(mrkdwn("> outer\n>\n> > inner"), "> outer\n> \n> inner");
        assert_eq!(mrkdwn("> - a\n> - b"), "> • a\n> • b");
    }

    #[test]
    fn tables() {
        let part = one("| Name | Qty |\n|:-----|----:|\n| kiwi & co | 12 |\n| *ripe* | 3 |");
        assert_eq!(
            part.mrkdwn,
            "```\nName      | Qty\n----------+----\nkiwi &amp; co |  12\nripe      |   3\n```"
        );
        assert_eq!(
            part.plain,
            "Name      | Qty\n----------+----\nkiwi & co |  12\nripe      |   3"
        );
    }

    #[test]
    fn unicode_text() {
        let text = "Emoji 😀👩‍💻 CJK 中文字 RTL \u{200f}שלום\u{200e} عربي";
        assert_eq!(mrkdwn(text), text);
        assert_eq!(mrkdwn(&format!("**{text}**")), format!("*{text}*"));
    }

    #[test]
    fn limit_counts_mrkdwn_characters() {
        let limit = 50;
        assert_eq!(checked(&"x".repeat(limit), limit).len(), 1);
        assert_eq!(
            plains(&checked(&"x".repeat(limit + 1), limit)),
            ["x".repeat(limit), "x".to_owned()]
        );
        // Emoji count one each, escapes their full length.
        assert_eq!(checked(&"😀".repeat(limit), limit).len(), 1);
        let amps = checked(&"&".repeat(20), limit);
        assert_eq!(plains(&amps), ["&".repeat(10), "&".repeat(10)]);
        assert_eq!(checked(&"x".repeat(MESSAGE_LIMIT), MESSAGE_LIMIT).len(), 1);
        assert_eq!(
            checked(&"x".repeat(MESSAGE_LIMIT + 1), MESSAGE_LIMIT).len(),
            2
        );
        // Two blocks and their separator exactly at the limit share a part.
        let (a, b) = ("a".repeat(24), "b".repeat(24));
        assert_eq!(checked(&format!("{a}\n\n{b}"), limit).len(), 1);
        assert_eq!(
            plains(&checked(&format!("{a}\n\n{b}b"), limit)),
            [a, format!("{b}b")]
        );
    }

    #[test]
    fn long_code_block_is_closed_and_reopened() {
        let code: String = (0..300)
            .map(|i| format!("let v{i} = a < b && {i};\n"))
            .collect();
        let markdown = format!("Intro.\n\n```rust\n{code}```\n\nOutro.");
        let parts = checked(&markdown, 500);
        assert!(parts.len() > 5);
        let mut lines = Vec::new();
        for part in &parts {
            assert_eq!(
                part.mrkdwn.matches("```").count() % 2,
                0,
                "{:?}",
                part.mrkdwn
            );
            lines.extend(
                part.plain
                    .lines()
                    .filter(|l| l.starts_with("let v"))
                    .map(str::to_owned),
            );
        }
        assert_eq!(
            lines,
            code.lines().collect::<Vec<_>>(),
            "every line once, in order"
        );
        assert!(parts[1].mrkdwn.starts_with("```\nlet v") && parts[1].mrkdwn.ends_with(";\n```"));
        assert!(
            parts[0].plain.starts_with("Intro.") && parts.last().unwrap().plain.ends_with("Outro.")
        );
    }

    #[test]
    fn long_styled_paragraph_reopens_styles() {
        let words = "word ".repeat(400);
        for part in checked(&format!("**{}**", words.trim_end()), 300) {
            assert!(
                part.mrkdwn.starts_with("*word") && part.mrkdwn.ends_with("word*"),
                "{part:?}"
            );
        }
        for part in checked(&format!("> {words}"), 100) {
            assert!(part.mrkdwn.starts_with("> word"), "{part:?}");
        }
        let sentences = "This sentence is here. ".repeat(20);
        let parts = checked(sentences.trim_end(), 50);
        assert!(
            parts
                .iter()
                .all(|p| p.plain.ends_with('.') && p.plain.starts_with("This"))
        );
    }

    #[test]
    fn link_longer_than_a_message_shows_its_text() {
        let url = format!("https://e.com/{}", "a".repeat(400));
        let parts = checked(&format!("see [the docs]({url}) now"), 300);
        assert_eq!(plains(&parts), ["see the docs now"]);
        assert_eq!(parts[0].mrkdwn, "see the docs now");
        assert_eq!(
            mrkdwn(&format!("[the docs]({url})")),
            format!("<{url}|the docs>")
        );
    }

    const MIXED: &str = "# Summary\n\nI changed **three** files and ran `cargo test` (a < b && c > d).\n\n\
        ## Details\n\n1. Edited `src/main.rs`:\n   ```rust\n   fn main() { println!(\"<hi> & bye\"); }\n   ```\n\
        2. Added a *test*\n   - with a [link](https://example.com/?q=1&r=\"2\")\n   - and ~~nothing~~ else\n\n\
        > Note: a quote with `code` and **bold**\n>\n> ```\n> inside quote\n> ```\n\n\
        | file | lines |\n|---|---:|\n| main.rs | 12 |\n| lib.rs | 3400 |\n\n\
        - [x] done\n- [ ] todo\n\n---\n\n<script>alert(1)</script> <!channel>\n\n\
        Emoji 😀 and CJK 中文 and snake_case and un**bold**ed.\n\n    indented code\n    second line\n";

    #[test]
    fn long_mixed_answer() {
        let long = format!(
            "{MIXED}\n\n{}\n\n```python\n{}```\n\n{}",
            "Long paragraph sentence. ".repeat(300),
            "print('x < y')\n".repeat(400),
            MIXED.repeat(10)
        );
        let unsplit = plains(&render(&long, usize::MAX));
        for limit in [MESSAGE_LIMIT, 1000, 50, 7] {
            let parts = checked(&long, limit);
            assert!(parts.len() > 2);
            assert_content_kept(&unsplit, &plains(&parts));
        }
    }

    #[test]
    fn generated_inputs_keep_every_invariant() {
        for markdown in generated_markdown() {
            let unsplit = plains(&render(&markdown, usize::MAX));
            for limit in [2, 7, 30, 300, MESSAGE_LIMIT] {
                let parts = checked(&markdown, limit);
                assert_content_kept(&unsplit, &plains(&parts));
                for part in &parts {
                    for raw in ["<!", "<@", "<#"] {
                        assert!(!part.mrkdwn.contains(raw), "{raw} in {part:?}");
                    }
                }
            }
        }
    }
}
