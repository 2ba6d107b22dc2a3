//! Markdown to Discord message content, cut into messages Discord accepts.
//!
//! Discord's rules, and what they force on this module:
//! - `content` holds at most [`MESSAGE_LIMIT`] characters, counted as Unicode code points of the
//!   raw content (Discord's API counts with Python's `len`: discord-api-docs#1315), markup,
//!   backslashes and zero-width spaces included. So parts are measured on the markup.
//! - Discord reads most Markdown itself: `**bold**`, `*italic*`, `~~strike~~`, `` `code` ``,
//!   fenced code blocks with a language, `> ` quotes, `#`/`##`/`###` headings (deeper ones are
//!   bold lines here), masked links `[text](<url>)` (the angle brackets stop an embed), `<url>`.
//!   Not tables (a code block with aligned columns), images (a link to the image), rules (a line
//!   of em dashes) or HTML (shown as text). List items are written as text, `•` or their number
//!   (escaped), which reads the same and keeps the source's numbering. Only `http` and `https`
//!   links become links. Inline code is never bold or italic, a link's text is plain, quotes do not
//!   nest (see [`super::blocks`]); `-#` subtext has no Markdown source and is never written.
//! - Plain text is escaped with backslashes, which Discord honours before any ASCII punctuation:
//!   `\ * _ ~ ` | < [ ]` everywhere, and `# - + >` and the `.` of `1.` where they start a line.
//!   Bare `http(s)://` URLs stay as typed, since Discord links them itself and a backslash would
//!   end up in the link.
//! - Mentions must not ping: `@everyone` and `@here` get a zero-width space (U+200B) after the
//!   `@`, and so does `<@…` (user and role mentions, which an escaped `<` does not stop); `<#…`
//!   and every other `<…>` are inert once the `<` is escaped. The bot also sends
//!   `allowed_mentions: {parse: []}`; this is the second lock.
//!
//! Splitting follows the shared rules of [`super::blocks`]: whole blocks first, then a line, a
//! sentence, a space, a character; a code block cut in two is closed in one message and reopened,
//! with its language, in the next. Output is deterministic.

use super::blocks::Style;
use super::delimited::{self, Context, Dialect, ZWSP, bare_url_len, mentions, push_code};

/// Discord's maximum `content` length, in code points.
pub const MESSAGE_LIMIT: usize = 2000;

/// URL schemes that become links: Discord makes masked links of nothing else.
const LINK_SCHEMES: [&str; 2] = ["http", "https"];

/// Heading prefixes for levels 1 to 3, Discord's only heading levels.
const HEADINGS: [&str; 3] = ["# ", "## ", "### "];

/// One Discord message worth of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The message `content`, in Discord's Markdown.
    pub content: String,
    /// The visible text of `content`, no markup and no zero-width spaces, e.g. for logs. Discord
    /// reads Markdown in every message, so this is not safe to send as content.
    pub plain: String,
}

/// Renders Markdown to Discord content split into messages of at most `limit` code points of
/// content. Returns no parts for empty or whitespace-only input; no part is empty or
/// whitespace-only. A `limit` below 2 (the longest escape) is treated as 2.
pub fn render(markdown: &str, limit: usize) -> Vec<Part> {
    delimited::render(&DiscordMarkdown, markdown, &LINK_SCHEMES, limit)
        .into_iter()
        .map(|(content, plain)| Part { content, plain })
        .collect()
}

struct DiscordMarkdown;

impl Dialect for DiscordMarkdown {
    /// A backslash and the character, or an `@` and a zero-width space.
    const MAX_CHAR_LEN: usize = 2;
    const WORD_BOUNDED: bool = false;

    fn heading_prefix(&self, level: u8) -> Option<&'static str> {
        HEADINGS.get(usize::from(level).checked_sub(1)?).copied()
    }

    fn delimiter(&self, style: &Style) -> &'static str {
        match style {
            Style::Italic => "*",
            Style::Strike => "~~",
            _ => "**",
        }
    }

    fn fence(&self, lang: Option<&str>, out: &mut String) {
        out.push_str("```");
        out.push_str(lang.unwrap_or_default());
    }

    fn code_line(&self, line: &str, out: &mut String) {
        push_code(line, out, |c, out| out.push(c));
    }

    /// Nothing escapes inside code, so a backtick in it is kept apart from the next and the span
    /// is delimited by two, with a space inside if the code starts or ends with one.
    fn code_span(&self, code: &str, out: &mut String) {
        let delimiter = if code.contains('`') { "``" } else { "`" };
        let pad = if code.starts_with('`') || code.ends_with('`') {
            " "
        } else {
            ""
        };
        out.push_str(delimiter);
        out.push_str(pad);
        push_code(code, out, |c, out| out.push(c));
        out.push_str(pad);
        out.push_str(delimiter);
    }

    fn link(&self, url: &str, label: Option<&str>, out: &mut String) {
        if let Some(label) = label {
            out.push('[');
            out.push_str(label);
            out.push_str("](");
        }
        out.push('<');
        for c in url.chars() {
            delimited::push_url_char(c, out);
        }
        out.push('>');
        if label.is_some() {
            out.push(')');
        }
    }

    fn text(&self, text: &str, context: Context, out: &mut String) {
        let chars: Vec<char> = text.chars().collect();
        let mut line_start = context.line_start;
        let mut index = 0;
        while let Some(&c) = chars.get(index) {
            let prev = match index {
                0 => context.prev,
                _ => Some(chars[index - 1]),
            };
            let url = bare_url_len(&chars, index, prev);
            if url > 0 {
                // In angle brackets: the link ends exactly here (Discord's own URL rule would
                // run on over the backslash of an escaped character that follows) and shows
                // no embed.
                out.push('<');
                out.extend(&chars[index..index + url]);
                out.push('>');
                index += url;
                line_start = false;
                continue;
            }
            index += 1;
            if c == '@' {
                out.push('@');
                if prev == Some('<') || mentions(&chars[index..], &["everyone", "here"]) {
                    out.push(ZWSP);
                }
            } else if line_start && matches!(c, '#' | '-' | '+' | '>') {
                out.push('\\');
                out.push(c);
            } else if line_start && c.is_ascii_digit() {
                // `1.` starts a numbered list.
                let digits = chars[index - 1..]
                    .iter()
                    .take_while(|d| d.is_ascii_digit())
                    .count();
                out.extend(&chars[index - 1..index - 1 + digits]);
                index += digits - 1;
                if chars.get(index) == Some(&'.') {
                    out.push_str("\\.");
                    index += 1;
                }
            } else if matches!(c, '\\' | '*' | '_' | '~' | '`' | '|' | '<' | '[' | ']') {
                out.push('\\');
                out.push(c);
            } else {
                out.push(c);
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
    use super::{MESSAGE_LIMIT, Part, render};

    const ZWSP: char = '\u{200B}';

    fn is_link(url: &str) -> bool {
        let scheme = url.split(':').next().unwrap_or("").to_ascii_lowercase();
        ["http", "https"].contains(&scheme.as_str()) && !url.contains(char::is_whitespace)
    }

    /// A strict model of Discord's Markdown for inline text: the visible text, or why Discord
    /// would show something else (an unescaped special character, an unpaired delimiter, a link
    /// to another scheme, a mention).
    fn text(text: &str) -> Result<String, String> {
        let chars: Vec<char> = text.chars().collect();
        let mut visible = String::new();
        // Open delimiters: the number of `*`, or 0 for `~~`.
        let mut open: Vec<usize> = Vec::new();
        let mut i = 0;
        while let Some(&c) = chars.get(i) {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            // Bare URLs are links, up to the end of the style around them.
            let url = chars[i..i + bare_url_len(&chars, i, prev)]
                .iter()
                .take_while(|c| open.is_empty() || !matches!(c, '*' | '~'))
                .count();
            if url > 0 {
                visible.extend(&chars[i..i + url]);
                i += url;
                continue;
            }
            let rest: String = chars[i + 1..].iter().collect();
            match c {
                '\\' => {
                    let escaped = chars
                        .get(i + 1)
                        .filter(|n| n.is_ascii_punctuation())
                        .ok_or_else(|| format!("lone backslash in {text:?}"))?;
                    visible.push(*escaped);
                    i += 2;
                    continue;
                }
                '`' => {
                    let delimiter = if rest.starts_with('`') { "``" } else { "`" };
                    let body = &rest[delimiter.len() - 1..];
                    let len = body.find(delimiter).ok_or("unclosed code")?;
                    let code = &body[..len];
                    let padded = code.len() > 1
                        && code.starts_with(' ')
                        && code.ends_with(' ')
                        && (code[1..].starts_with('`') || code[..code.len() - 1].ends_with('`'));
                    visible.push_str(if padded {
                        &code[1..code.len() - 1]
                    } else {
                        code
                    });
                    i += 1 + (delimiter.len() - 1) + code.chars().count() + delimiter.len();
                    continue;
                }
                '[' => {
                    let mut end = i + 1;
                    while chars.get(end).is_some_and(|c| *c != ']') {
                        end += if chars[end] == '\\' { 2 } else { 1 };
                    }
                    let label: String = chars[i + 1..end.min(chars.len())].iter().collect();
                    let tail: String = chars[end.min(chars.len())..].iter().collect();
                    let url = tail
                        .strip_prefix("](<")
                        .and_then(|t| t.split_once(">)"))
                        .map(|(url, _)| url)
                        .filter(|url| is_link(url))
                        .ok_or_else(|| format!("bad link in {text:?}"))?;
                    visible.push_str(&self::text(&label)?);
                    i = end + 3 + url.chars().count() + 2;
                    continue;
                }
                '<' => {
                    let url = rest
                        .split_once('>')
                        .map(|(url, _)| url)
                        .filter(|url| is_link(url))
                        .ok_or_else(|| format!("bare < in {text:?}"))?;
                    visible.push_str(url);
                    i += url.chars().count() + 2;
                    continue;
                }
                '*' | '~' => {
                    let run = chars[i..].iter().take_while(|d| **d == c).count();
                    let next = chars.get(i + run);
                    // 0 is `~~`; 1 and 2 are `*` and `**`; 3 is `***`, emphasis and strong in
                    // whichever order the closing runs say.
                    let token = match (c, run) {
                        ('~', 2) => 0,
                        ('*', 1..=3) => run,
                        _ => return Err(format!("{run} {c} in {text:?}")),
                    };
                    // Closing: the innermost open delimiters add up to this run.
                    let mut closed = open.clone();
                    let mut need = run;
                    while need > 0 {
                        let Some(&stars) = closed.last() else { break };
                        let len = if stars == 0 { 2 } else { stars };
                        if (stars == 0) != (c == '~') {
                            break;
                        }
                        if len > need {
                            if let Some(combined @ 3) = closed.last_mut() {
                                *combined -= need;
                                need = 0;
                            }
                            break;
                        }
                        need -= len;
                        closed.pop();
                    }
                    if need == 0 && prev.is_some_and(|p| !p.is_whitespace()) {
                        open = closed;
                    } else if next.is_some_and(|n| !n.is_whitespace()) {
                        open.push(token);
                    } else {
                        return Err(format!("stray {c} in {text:?}"));
                    }
                    i += run;
                    continue;
                }
                '_' | '|' | ']' => return Err(format!("bare {c} in {text:?}")),
                '@' if ["everyone", "here"]
                    .iter()
                    .any(|w| rest.to_ascii_lowercase().starts_with(w)) =>
                {
                    return Err(format!("mention in {text:?}"));
                }
                _ => visible.push(c),
            }
            i += 1;
        }
        if !open.is_empty() {
            return Err(format!("unclosed delimiter in {text:?}"));
        }
        Ok(visible.replace(ZWSP, ""))
    }

    /// One line outside code: a heading prefix, then text that must not start a list, a
    /// heading, a quote or subtext.
    fn line(line: &str) -> Result<String, String> {
        let rest = ["### ", "## ", "# "]
            .iter()
            .find_map(|prefix| line.strip_prefix(prefix))
            .unwrap_or(line);
        let start = rest.trim_start_matches(' ');
        let digits = start.chars().take_while(char::is_ascii_digit).count();
        if start.starts_with(['#', '-', '+', '>'])
            || start.starts_with("* ")
            || (digits > 0 && start[digits..].starts_with('.'))
        {
            return Err(format!("{line:?} starts a block"));
        }
        text(rest)
    }

    fn check(content: &str) -> Result<String, String> {
        visible(content, true, line, |code| Ok(code.replace(ZWSP, "")))
    }

    /// Renders and asserts what must hold for every output.
    fn checked(markdown: &str, limit: usize) -> Vec<Part> {
        let parts = render(markdown, limit);
        let pairs: Vec<(&str, &str)> = parts
            .iter()
            .map(|p| (p.content.as_str(), p.plain.as_str()))
            .collect();
        assert_parts(markdown, limit, 2, &pairs, check, str::to_owned);
        assert_eq!(render(markdown, limit), parts, "not deterministic");
        parts
    }

    fn one(markdown: &str) -> Part {
        let mut parts = checked(markdown, MESSAGE_LIMIT);
        assert_eq!(parts.len(), 1, "{parts:#?}");
        parts.remove(0)
    }

    fn content(markdown: &str) -> String {
        one(markdown).content
    }

    fn plains(parts: &[Part]) -> Vec<String> {
        parts.iter().map(|part| part.plain.clone()).collect()
    }

    #[test]
    fn checker_rejects_bad_content() {
        for bad in [
            "a_b",
            "**bold",
            "~~x",
            "a | b",
            "<@123>",
            "<#1>",
            "@everyone",
            "hi @here",
            "[x](<javascript:y>)",
            "[x](https://e.com)",
            "# \\# x\n- item",
            "1. one",
            "> ```\ncode",
            "`code",
            "a \\b",
        ] {
            assert!(check(bad).is_err(), "checker accepted {bad:?}");
        }
        assert_eq!(
            check("> ## **T** \\*x\\* [l](<https://e.com>) ``a`b``\n```rust\n<@1> *\n```"),
            Ok("T *x* l a`b\n<@1> *".to_owned())
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
            content("*i* _i_ **b** __b__ ~~s~~ `c`"),
            "*i* *i* **b** **b** ~~s~~ `c`"
        );
        assert_eq!(content("***both***"), "***both***");
        assert_eq!(
            content("**bold *italic ~~struck~~* bold**"),
            "**bold *italic ~~struck~~* bold**"
        );
        assert_eq!(content("**a `c` b**"), "**a** `c` **b**");
        assert_eq!(content("**a**_b_"), "**a**\u{200B}*b*");
        // Discord styles parts of words: no boundaries needed.
        assert_eq!(content("un**believ**able"), "un**believ**able");
        assert_eq!(content("**one\ntwo**"), "**one**\n**two**");
        assert_eq!(content("**a *b* c**"), "**a *b* c**");
    }

    #[test]
    fn headings() {
        assert_eq!(
            content("# T *i*\n\n## S\n\n### U\n\n#### V **b**\n\n###### W"),
            "# T *i*\n\n## S\n\n### U\n\n**V b**\n\n**W**"
        );
        assert_eq!(content("> # quoted"), "> # quoted");
        assert_eq!(content("- # in a list"), "• **in a list**");
        assert_eq!(content("Set\next\n==="), "# Set\n# ext");
        assert_eq!(
            content("# \\# and \\- in a heading"),
            "# \\# and - in a heading"
        );
    }

    #[test]
    fn links_are_masked_and_filtered() {
        assert_eq!(
            content("[x](https://e.com/?a=1&b=2)"),
            "[x](<https://e.com/?a=1&b=2>)"
        );
        assert_eq!(
            content("[x](<https://e.com/a b(c)>)"),
            "[x](<https://e.com/a%20b%28c%29>)"
        );
        assert_eq!(
            content("[a \\[b\\] **c**](https://e.com)"),
            "[a \\[b\\] c](<https://e.com>)"
        );
        assert_eq!(
            content("**[x](https://e.com)**"),
            "**[x](<https://e.com>)**"
        );
        assert_eq!(content("[tap](javascript:alert(1))"), "tap");
        assert_eq!(content("[m](mailto:a@b.c) [t](tg://x)"), "m t");
        assert_eq!(
            content("<https://e.com/a_b?c&d>"),
            "<https://e.com/a_b?c&d>"
        );
        assert_eq!(content("[](https://e.com)"), "<https://e.com>");
        assert_eq!(
            content("![a *cat*](https://e.com/cat.png)"),
            "[a cat](<https://e.com/cat.png>)"
        );
        // Bare URLs stay whole, in brackets so that they end where they end: Discord would
        // link the backslash of an escape right after them.
        assert_eq!(
            content("see https://e.com/a_b*c|d now_"),
            "see <https://e.com/a_b*c|d> now\\_"
        );
        assert_eq!(content("https://e.com/x_"), "<https://e.com/x_>");
        assert_eq!(content("(https://e.com/x)`"), "(<https://e.com/x)>\\`");
    }

    #[test]
    fn markdown_specials_are_escaped() {
        assert_eq!(
            content("\\*a\\* \\_b\\_ \\~c\\~ \\`d\\` back\\\\slash a|b \\[e\\](f) <b>x</b>"),
            "\\*a\\* \\_b\\_ \\~c\\~ \\`d\\` back\\\\slash a\\|b \\[e\\](f) \\<b>x\\</b>"
        );
        assert_eq!(
            content("\\# h\n\\- l\n\\+ p\n\\> q\n1\\. n\n2024\\. y\n-# sub\nmid # - > 1. ok"),
            "\\# h\n\\- l\n\\+ p\n\\> q\n1\\. n\n2024\\. y\n\\-# sub\nmid # - > 1. ok"
        );
        assert_eq!(one("a < b && c > d").plain, "a < b && c > d");
    }

    #[test]
    fn mentions_are_inert() {
        let input = "@everyone @Here <@123> <@&456> <@!7> <#789> <t:1:R> <:e:1> mail a@example.com";
        let part = one(input);
        assert_eq!(part.plain, input);
        assert_eq!(
            part.content,
            "@\u{200B}everyone @\u{200B}Here \\<@\u{200B}123> \\<@\u{200B}&456> \\<@\u{200B}!7> \
             \\<#789> \\<t:1:R> \\<:e:1> mail a@example.com"
        );
        // However they arrive: escaped by the bot, in links, in headings, in quotes.
        let embedded = format!(
            "# Host **{}**\n\n> [@everyone](https://e.com) @here",
            super::super::escape_markdown("<@123> @everyone")
        );
        let content = one(&embedded).content;
        assert!(
            !content.contains("@everyone") && !content.contains("@here"),
            "{content:?}"
        );
        assert!(!content.contains("<@1"), "{content:?}");
        // Inside code Discord shows them as text and never pings.
        assert_eq!(self::content("`@everyone <@1>`"), "`@everyone <@1>`");
    }

    #[test]
    fn code() {
        assert_eq!(
            content("```rust\nfn main() {}\n```"),
            "```rust\nfn main() {}\n```"
        );
        assert_eq!(
            content("```\n*a* _b_ <@1> \\x\n\n  z\n```"),
            "```\n*a* _b_ <@1> \\x\n\n  z\n```"
        );
        assert_eq!(
            content("````md\n```\ninner\n```\n````"),
            "```md\n`\u{200B}`\u{200B}`\ninner\n`\u{200B}`\u{200B}`\n```"
        );
        assert_eq!(content("`a*b_c`"), "`a*b_c`");
        assert_eq!(content("`` a`b ``"), "``a`b``");
        assert_eq!(content("`` `x ``"), "`` `x ``");
        assert_eq!(
            content("text\n\n    indented\n"),
            "text\n\n```\nindented\n```"
        );
        assert_eq!(content("- a\n  \\> b"), "• a\n  \\> b");
    }

    #[test]
    fn lists_quotes_tables_rules() {
        assert_eq!(
            content("- a\n  - **b**\n- [x] done\n\n7. x\n8. y"),
            "• a\n  • **b**\n☑ done\n\n7\\. x\n8\\. y"
        );
        assert_eq!(
            content("> quoted **bold**\n>\n> ```sh\n> ls\n> ```\n\nafter"),
            "> quoted **bold**\n> \n> ```sh\n> ls\n> ```\n\nafter"
        );
        let part = one("| a | b |\n|---|--:|\n| x_y | 1 |\n\n---");
        assert_eq!(
            part.content,
            "```\na   | b\n----+--\nx_y | 1\n```\n\n——————"
        );
    }

    #[test]
    fn limit_counts_content_code_points() {
        let limit = 50;
        assert_eq!(checked(&"x".repeat(limit), limit).len(), 1);
        assert_eq!(
            plains(&checked(&"x".repeat(limit + 1), limit)),
            ["x".repeat(limit), "x".to_owned()]
        );
        assert_eq!(checked(&"😀".repeat(limit), limit).len(), 1);
        let escaped = checked(&"\\*".repeat(30), limit);
        assert_eq!(plains(&escaped), ["*".repeat(25), "*".repeat(5)]);
        assert_eq!(checked(&"x".repeat(MESSAGE_LIMIT), MESSAGE_LIMIT).len(), 1);
        assert_eq!(
            checked(&"x".repeat(MESSAGE_LIMIT + 1), MESSAGE_LIMIT).len(),
            2
        );
    }

    #[test]
    fn long_code_block_reopens_with_its_language() {
        let code: String = (0..300).map(|i| format!("let v{i} = `{i}`;\n")).collect();
        let markdown = format!("Intro.\n\n```rust\n{code}```\n\nOutro.");
        let parts = checked(&markdown, 400);
        assert!(parts.len() > 5);
        let mut lines = Vec::new();
        for part in &parts[1..parts.len() - 1] {
            assert!(
                part.content.starts_with("```rust\nlet v"),
                "{:?}",
                part.content
            );
            assert!(part.content.ends_with(";\n```"), "{:?}", part.content);
        }
        for part in &parts {
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
    }

    #[test]
    fn long_styled_text_reopens_styles() {
        let words = "word ".repeat(400);
        for part in checked(&format!("**{}**", words.trim_end()), 300) {
            assert!(part.content.starts_with("**word") && part.content.ends_with("word**"));
        }
        for part in checked(&format!("> {words}"), 100) {
            assert!(part.content.starts_with("> word"), "{part:?}");
        }
        for part in checked(&format!("## {words}"), 100) {
            assert!(part.content.starts_with("## word"), "{part:?}");
        }
    }

    const MIXED: &str = "# Summary\n\nI changed **three** files and ran `cargo test` (a < b && c > d).\n\n\
        ## Details\n\n1. Edited `src/main.rs`:\n   ```rust\n   fn main() { println!(\"<hi> & bye\"); }\n   ```\n\
        2. Added a *test*\n   - with a [link](https://example.com/?q=1&r=\"2\")\n   - and ~~nothing~~ else\n\n\
        > Note: a quote with `code` and **bold** @here\n>\n> ```\n> inside quote\n> ```\n\n\
        | file | lines |\n|---|---:|\n| main.rs | 12 |\n| lib.rs | 3400 |\n\n\
        - [x] done\n- [ ] todo\n\n---\n\n<script>alert(1)</script> <@123> @everyone\n\n\
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
            }
        }
    }
}
