//! Markdown to Telegram HTML, cut into messages Telegram will accept.
//!
//! Telegram's rules, and what they force on this module:
//! - A message may show at most [`MESSAGE_LIMIT`] characters, counted in UTF-16 code units of the
//!   text *after* the markup is parsed. The limit is therefore checked on the visible text, never
//!   on the HTML, and a character outside the BMP (most emoji) counts two.
//! - `parse_mode = "HTML"` knows a handful of tags, and one unknown tag, unbalanced tag or bare
//!   `<`/`&` makes Telegram reject the whole message. So nothing from the input reaches the output
//!   unescaped (raw HTML in the Markdown is shown as text), and tags are only ever written by one
//!   function that opens and closes them from a style stack.
//! - Entities nest only in some ways: `pre` and `code` may sit inside a blockquote and nowhere else
//!   and contain nothing, links contain no other link, blockquotes do not nest. Telegram silently
//!   drops what breaks these rules, so the renderer follows them instead (code inside bold text
//!   loses the bold, code inside a link becomes link text, a nested quote joins its parent).
//!
//! Rendering first builds a list of top-level blocks, each a list of runs of visible text with the
//! styles around them, and only then writes HTML (the blocks, and how they are packed and cut into
//! messages, are shared with the other platforms: see [`super::blocks`]). Cutting a run list
//! anywhere yields two run lists that each render to balanced HTML, so a split can never land
//! inside a tag or an entity, and the tags open at the cut are closed in one part and reopened in
//! the next for free.
//!
//! Splitting packs whole blocks first because a reader follows a long answer message by message:
//! a paragraph, list or code block cut in two is much harder to read (and a code block harder to
//! copy) than one that starts a new message. Only a block that cannot fit in any message is cut,
//! at the gentlest boundary available: a line, then a sentence, then a space, and a character as a
//! last resort. Code is cut only at lines or characters, and keeps its line ends, so the pieces
//! concatenate back to the exact source.
//!
//! Everything here is deterministic (no maps, no clocks): callers re-render the same text and rely
//! on getting the same parts, e.g. to edit messages already sent.

use super::blocks::{Indexed, Measure, Run, Style, blocks, pack, plain_text};

/// Telegram's maximum message length: visible UTF-16 units per message.
pub const MESSAGE_LIMIT: usize = 4096;

/// The smallest limit [`render`] honours: a character outside the BMP takes two UTF-16 units and
/// cannot be cut, so no smaller limit can always be met.
const MIN_LIMIT: usize = 2;

/// URL schemes that become links; anything else (`javascript:`, `data:`, relative paths) is
/// shown as text, since Telegram would reject or mangle it and some are dangerous to tap.
const LINK_SCHEMES: [&str; 4] = ["http", "https", "mailto", "tg"];

/// One Telegram message worth of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The message text for `parse_mode = "HTML"`.
    pub html: String,
    /// The visible text of `html`: a fallback to send without `parse_mode` if Telegram rejects the
    /// markup anyway.
    pub plain: String,
}

/// Renders Markdown to Telegram HTML split into messages whose visible text is at most `limit`
/// UTF-16 code units. `plain` is the same part's visible text (what the HTML displays), used as a
/// fallback when Telegram rejects the markup; it must also respect `limit`.
///
/// Returns no parts at all for empty or whitespace-only input (Telegram rejects an empty message;
/// the caller knows what, if anything, to say instead). No part is empty or whitespace-only.
/// A `limit` below 2 is treated as 2.
pub fn render(markdown: &str, limit: usize) -> Vec<Part> {
    let limit = limit.max(MIN_LIMIT);
    pack(blocks(markdown, &LINK_SCHEMES), limit, &VisibleUtf16)
        .into_iter()
        .map(|runs| Part {
            html: to_html(&runs),
            plain: plain_text(&runs),
        })
        .collect()
}

/// Escapes `<`, `>`, `&` (and `"`) for Telegram HTML.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// Telegram's length of a visible text: UTF-16 code units.
pub fn visible_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// Telegram measures the visible text, so a piece's length is known from its text alone.
struct VisibleUtf16;

impl Measure for VisibleUtf16 {
    const MAX_CHAR_LEN: usize = 2;

    fn len(&self, runs: &[Run]) -> usize {
        visible_len(&plain_text(runs))
    }

    fn fitting_end(&self, _block: &Indexed<'_>, text: &str, pos: usize, limit: usize) -> usize {
        pos + fitting_prefix(&text[pos..], limit)
    }
}

/// Byte length of the longest prefix of `text` within `limit` units; at least one char, since
/// `limit >= MIN_LIMIT` fits any char.
fn fitting_prefix(text: &str, limit: usize) -> usize {
    let mut units = 0;
    for (i, c) in text.char_indices() {
        units += c.len_utf16();
        if units > limit {
            // Take at least one char, or splitting would never progress.
            return if i == 0 { c.len_utf8() } else { i };
        }
    }
    text.len()
}

fn open_tag(style: &Style, out: &mut String) {
    match style {
        Style::Quote => out.push_str("<blockquote>"),
        Style::Pre(None) => out.push_str("<pre>"),
        Style::Pre(Some(lang)) => {
            out.push_str("<pre><code class=\"language-");
            out.push_str(&escape_html(lang));
            out.push_str("\">");
        }
        Style::Link(url) => {
            out.push_str("<a href=\"");
            out.push_str(&escape_html(url));
            out.push_str("\">");
        }
        // Telegram has no headings: a bold line stands in.
        Style::Bold | Style::Heading(_) => out.push_str("<b>"),
        Style::Italic => out.push_str("<i>"),
        Style::Strike => out.push_str("<s>"),
        Style::Code => out.push_str("<code>"),
    }
}

fn close_tag(style: &Style, out: &mut String) {
    out.push_str(match style {
        Style::Quote => "</blockquote>",
        Style::Pre(None) => "</pre>",
        Style::Pre(Some(_)) => "</code></pre>",
        Style::Link(_) => "</a>",
        Style::Bold | Style::Heading(_) => "</b>",
        Style::Italic => "</i>",
        Style::Strike => "</s>",
        Style::Code => "</code>",
    });
}

/// Writes the runs as HTML, opening and closing tags only where the style stack changes.
fn to_html(runs: &[Run]) -> String {
    let mut out = String::new();
    let mut open: Vec<&Style> = Vec::new();
    for run in runs {
        let common = open
            .iter()
            .zip(&run.styles)
            .take_while(|(open, wanted)| **open == *wanted)
            .count();
        while open.len() > common {
            if let Some(style) = open.pop() {
                close_tag(style, &mut out);
            }
        }
        for style in &run.styles[common..] {
            open_tag(style, &mut out);
            open.push(style);
        }
        out.push_str(&escape_html(&run.text));
    }
    while let Some(style) = open.pop() {
        close_tag(style, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{MESSAGE_LIMIT, Part, escape_html, render, visible_len};

    /// The tags Telegram's HTML mode accepts.
    const ALLOWED_TAGS: [&str; 14] = [
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
    ];

    /// Decodes the entity at the start of `text` (which starts with `&`): the char and its length.
    fn entity(text: &str) -> Result<(char, usize), String> {
        let end = text
            .find(';')
            .filter(|end| *end <= 10)
            .ok_or_else(|| format!("bare & at {text:.20?}"))?;
        let c = match &text[1..end] {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            name => {
                let code = if let Some(hex) = name.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16)
                } else if let Some(decimal) = name.strip_prefix('#') {
                    decimal.parse()
                } else {
                    return Err(format!("unknown entity &{name};"));
                };
                code.ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("bad numeric entity &{name};"))?
            }
        };
        Ok((c, end + 1))
    }

    /// Decodes an attribute value, rejecting what Telegram would: bare `&`, `<`, `"`.
    fn attribute(value: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = value;
        while let Some(c) = rest.chars().next() {
            match c {
                '&' => {
                    let (decoded, len) = entity(rest)?;
                    out.push(decoded);
                    rest = &rest[len..];
                }
                '<' | '>' | '"' => return Err(format!("bare {c} in attribute {value:?}")),
                _ => {
                    out.push(c);
                    rest = &rest[c.len_utf8()..];
                }
            }
        }
        Ok(out)
    }

    /// Checks one opening tag against Telegram's tag set and nesting rules.
    fn open_tag(tag: &str, stack: &[String]) -> Result<String, String> {
        let (name, attrs) = tag.split_once(' ').unwrap_or((tag, ""));
        if !ALLOWED_TAGS.contains(&name) {
            return Err(format!("tag <{tag}> not allowed"));
        }
        let parent = stack.last().map(String::as_str);
        match name {
            "a" => {
                let value = attrs
                    .strip_prefix("href=\"")
                    .and_then(|v| v.strip_suffix('"'))
                    .ok_or_else(|| format!("bad <a> attributes {attrs:?}"))?;
                let url = attribute(value)?;
                let scheme = url.split(':').next().unwrap_or("").to_ascii_lowercase();
                if !["http", "https", "mailto", "tg"].contains(&scheme.as_str()) {
                    return Err(format!("link scheme not allowed: {url:?}"));
                }
            }
            "code" if !attrs.is_empty() => {
                let lang = attrs
                    .strip_prefix("class=\"language-")
                    .and_then(|v| v.strip_suffix('"'))
                    .ok_or_else(|| format!("bad <code> attributes {attrs:?}"))?;
                let valid = |c: char| c.is_ascii_alphanumeric() || "_+-".contains(c);
                if lang.is_empty() || !lang.chars().all(valid) || parent != Some("pre") {
                    return Err(format!("bad code language {attrs:?} in {parent:?}"));
                }
            }
            "blockquote" if !attrs.is_empty() && attrs != "expandable" => {
                return Err(format!("bad <blockquote> attributes {attrs:?}"));
            }
            _ if !attrs.is_empty() && name != "code" => {
                return Err(format!("<{name}> takes no attributes"));
            }
            _ => {}
        }
        // Telegram's nesting rules: pre/code contain nothing (but pre holds its code) and sit only
        // in a blockquote; blockquotes and links do not nest.
        match parent {
            Some("pre") if name != "code" || !attrs.starts_with("class=") => {
                return Err(format!("<{tag}> inside <pre>"));
            }
            Some("code") => return Err(format!("<{tag}> inside <code>")),
            _ => {}
        }
        if (name == "pre" || (name == "code" && parent != Some("pre")))
            && stack.iter().any(|open| open != "blockquote")
        {
            return Err(format!("<{name}> inside {stack:?}"));
        }
        if (name == "blockquote" || name == "a") && stack.iter().any(|open| open == name) {
            return Err(format!("nested <{name}>"));
        }
        Ok(name.to_owned())
    }

    /// A strict model of Telegram's HTML parser: returns the visible text, or why Telegram (or
    /// this project's stricter rules) would reject the markup.
    fn check_html(html: &str) -> Result<String, String> {
        let mut visible = String::new();
        let mut stack: Vec<String> = Vec::new();
        let mut rest = html;
        while let Some(c) = rest.chars().next() {
            match c {
                '<' => {
                    let end = rest.find('>').ok_or("unterminated tag")?;
                    let tag = &rest[1..end];
                    rest = &rest[end + 1..];
                    if let Some(name) = tag.strip_prefix('/') {
                        let open = stack
                            .pop()
                            .ok_or_else(|| format!("</{name}> never opened"))?;
                        if open != name {
                            return Err(format!("</{name}> closes <{open}>"));
                        }
                    } else {
                        let name = open_tag(tag, &stack)?;
                        stack.push(name);
                    }
                }
                '&' => {
                    let (decoded, len) = entity(rest)?;
                    visible.push(decoded);
                    rest = &rest[len..];
                }
                '>' => return Err("bare >".to_owned()),
                _ => {
                    visible.push(c);
                    rest = &rest[c.len_utf8()..];
                }
            }
        }
        if !stack.is_empty() {
            return Err(format!("unclosed {stack:?}"));
        }
        Ok(visible)
    }

    /// Renders and asserts what must hold for every output.
    fn checked(markdown: &str, limit: usize) -> Vec<Part> {
        let parts = render(markdown, limit);
        for part in &parts {
            let visible = check_html(&part.html)
                .unwrap_or_else(|e| panic!("{e}\nin {:?}\nfrom {markdown:?}", part.html));
            assert_eq!(visible, part.plain, "plain differs from visible text");
            assert!(
                visible_len(&part.plain) <= limit.max(2),
                "part of {} units over {limit}: {:?}",
                visible_len(&part.plain),
                part.plain
            );
            assert!(!part.plain.trim().is_empty(), "blank part");
            assert!(
                !part.html.contains('\r'),
                "carriage return in {:?}",
                part.html
            );
        }
        assert_eq!(render(markdown, limit), parts, "not deterministic");
        parts
    }

    fn one(markdown: &str) -> Part {
        let mut parts = checked(markdown, MESSAGE_LIMIT);
        assert_eq!(parts.len(), 1, "{parts:#?}");
        parts.remove(0)
    }

    fn html(markdown: &str) -> String {
        one(markdown).html
    }

    fn plain(markdown: &str) -> String {
        one(markdown).plain
    }

    /// The contents of every `<pre>` in `html`, decoded.
    fn pre_contents(html: &str) -> Vec<String> {
        html.split("<pre>")
            .skip(1)
            .map(|rest| {
                let body = rest.split("</pre>").next().unwrap_or_default();
                let body = match body.strip_prefix("<code") {
                    Some(code) => code.split_once('>').map_or("", |(_, b)| b),
                    None => body,
                };
                let body = body.strip_suffix("</code>").unwrap_or(body);
                check_html(body).expect("valid pre body")
            })
            .collect()
    }

    #[test]
    fn checker_rejects_bad_markup() {
        for bad in [
            "a < b",
            "a & b",
            "a > b",
            "<b>x",
            "<b><i>x</b></i>",
            "</b>",
            "<p>x</p>",
            "<br>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<a href='http://x'>x</a>",
            "<pre><b>x</b></pre>",
            "<b><code>x</code></b>",
            "<blockquote><blockquote>x</blockquote></blockquote>",
            "<code class=\"language-rust\">x</code>",
            "<pre><code class=\"language-a b\">x</code></pre>",
            "&nbsp;",
            "&amp",
        ] {
            assert!(check_html(bad).is_err(), "checker accepted {bad:?}");
        }
        assert_eq!(
            check_html(
                "<blockquote>q <pre><code class=\"language-c++\">&lt;&#33;&#x3e;</code></pre></blockquote>"
            ),
            Ok("q <!>".to_owned())
        );
    }

    #[test]
    fn escape_html_and_visible_len() {
        assert_eq!(
            escape_html("<a href=\"x\">&</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(visible_len("abc"), 3);
        assert_eq!(visible_len("😀"), 2);
        assert_eq!(visible_len("中文"), 2);
        assert_eq!(visible_len("👩‍💻"), 5);
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
            html("*i* _i_ **b** __b__ ~~s~~ `c`"),
            "<i>i</i> <i>i</i> <b>b</b> <b>b</b> <s>s</s> <code>c</code>"
        );
    }

    #[test]
    fn nested_styles() {
        assert_eq!(html("***both***"), "<i><b>both</b></i>");
        assert_eq!(
            html("**bold *italic ~~struck~~* bold**"),
            "<b>bold <i>italic <s>struck</s></i> bold</b>"
        );
        // Telegram lets code sit in nothing but a blockquote.
        assert_eq!(html("**a `c` b**"), "<b>a </b><code>c</code><b> b</b>");
        assert_eq!(
            html("[see `x`](https://e.com)"),
            "<a href=\"https://e.com\">see x</a>"
        );
    }

    #[test]
    fn links_are_escaped_and_filtered() {
        assert_eq!(
            html("[x](<https://e.com/?a=1&b=\"q\"&c=<>)"),
            "[x](&lt;https://e.com/?a=1&amp;b=&quot;q&quot;&amp;c=&lt;&gt;)"
        );
        assert_eq!(
            html("[x](https://e.com/?a=1&b=%22q%22 \"title\")"),
            "<a href=\"https://e.com/?a=1&amp;b=%22q%22\">x</a>"
        );
        assert_eq!(
            html("[x](<https://e.com/?a=\"1\"&b>)"),
            "<a href=\"https://e.com/?a=&quot;1&quot;&amp;b\">x</a>"
        );
        assert_eq!(html("[tap](javascript:alert(1))"), "tap");
        assert_eq!(html("[tap](JavaScript:alert(1))"), "tap");
        assert_eq!(
            html("[f](ftp://x) [r](docs/x.md) [d](data:text/html,x)"),
            "f r d"
        );
        assert_eq!(
            html("[**bold** link](HTTPS://E.com) [m](mailto:a@b.c) [t](tg://user?id=1)"),
            "<a href=\"HTTPS://E.com\"><b>bold</b> link</a> <a href=\"mailto:a@b.c\">m</a> \
             <a href=\"tg://user?id=1\">t</a>"
        );
        assert_eq!(
            html("[](https://e.com)"),
            "<a href=\"https://e.com\">https://e.com</a>"
        );
    }

    #[test]
    fn autolinks_and_images() {
        assert_eq!(
            html("<https://e.com/a?b&c> and <me@example.com>"),
            "<a href=\"https://e.com/a?b&amp;c\">https://e.com/a?b&amp;c</a> and \
             <a href=\"mailto:me@example.com\">me@example.com</a>"
        );
        assert_eq!(
            html("![a *cat*](https://e.com/cat.png)"),
            "<a href=\"https://e.com/cat.png\">a <i>cat</i></a>"
        );
        assert_eq!(
            html("![](https://e.com/cat.png)"),
            "<a href=\"https://e.com/cat.png\">https://e.com/cat.png</a>"
        );
        assert_eq!(
            html("[![alt](https://e.com/i.png)](https://e.com)"),
            "<a href=\"https://e.com\">alt</a>"
        );
        assert_eq!(html("![alt](javascript:x)"), "alt");
    }

    #[test]
    fn html_special_chars_are_escaped() {
        let input = "<script>alert('x')</script> and a < b && c > d";
        assert_eq!(
            html(input),
            "&lt;script&gt;alert('x')&lt;/script&gt; and a &lt; b &amp;&amp; c &gt; d"
        );
        assert_eq!(plain(input), input);
        assert_eq!(
            html("`<script>` and `a < b && c > d`"),
            "<code>&lt;script&gt;</code> and <code>a &lt; b &amp;&amp; c &gt; d</code>"
        );
        assert_eq!(
            html("```\n<script>\na < b && c > \"d\"\n```"),
            "<pre>&lt;script&gt;\na &lt; b &amp;&amp; c &gt; &quot;d&quot;</pre>"
        );
        assert_eq!(plain("&lt; &amp; &#65; &copy;"), "< & A ©");
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        assert_eq!(
            one("<div>\n<b>hi</b>\n</div>\n\nafter").plain,
            "<div>\n<b>hi</b>\n</div>\n\nafter"
        );
        assert_eq!(
            html("a <b>bold</b> <img src=x onerror=alert(1)>"),
            "a &lt;b&gt;bold&lt;/b&gt; &lt;img src=x onerror=alert(1)&gt;"
        );
        assert_eq!(html("<!-- comment -->"), "&lt;!-- comment --&gt;");
    }

    #[test]
    fn fenced_code() {
        assert_eq!(
            html("```rust\nfn main() {}\n```"),
            "<pre><code class=\"language-rust\">fn main() {}</code></pre>"
        );
        assert_eq!(html("```\nplain\n\n```"), "<pre>plain</pre>");
        assert_eq!(
            html("```c++ {.numberLines}\nint x;\n```"),
            "<pre><code class=\"language-c++\">int x;</code></pre>"
        );
        assert_eq!(
            html("~~~rust,ignore\nx\n~~~"),
            "<pre><code class=\"language-rust\">x</code></pre>"
        );
        for hostile in [
            "\"><script>alert(1)</script>",
            "\" onclick=\"x",
            "<b>",
            "&amp;",
        ] {
            assert_eq!(
                html(&format!("```{hostile}\nx\n```")),
                "<pre>x</pre>",
                "{hostile}"
            );
        }
        assert_eq!(
            html("```a\"b\nx\n```"),
            "<pre><code class=\"language-a\">x</code></pre>"
        );
        assert_eq!(
            html("```py\n    indented\n\n  kept\n```"),
            "<pre><code class=\"language-py\">    indented\n\n  kept</code></pre>"
        );
        assert_eq!(render("```\n\n```", MESSAGE_LIMIT), Vec::new());
    }

    #[test]
    fn indented_code() {
        assert_eq!(
            html("text\n\n    let x = 1 < 2;\n    x\n"),
            "text\n\n<pre>let x = 1 &lt; 2;\nx</pre>"
        );
    }

    #[test]
    fn headings_paragraphs_and_rules() {
        assert_eq!(
            html(
                "# Title *it*\n\npara one\nsoft\n\npara two  \nhard\\\nhard2\n\n---\n\n## Sub\nend"
            ),
            "<b>Title <i>it</i></b>\n\npara one\nsoft\n\npara two\nhard\nhard2\n\n——————\n\n<b>Sub</b>\n\nend"
        );
        assert_eq!(plain("Setext\n======\ntext"), "Setext\n\ntext");
    }

    #[test]
    fn lists() {
        assert_eq!(
            plain("- a\n- b\n  - c\n    - d\n  - e\n- f"),
            "• a\n• b\n  • c\n    • d\n  • e\n• f"
        );
        assert_eq!(plain("7. a\n8. b\n9. c"), "7. a\n8. b\n9. c");
        assert_eq!(plain("7. a\n1. b\n1. c"), "7. a\n8. b\n9. c");
        assert_eq!(
            plain("1. one\n   - sub *x*\n2. two"),
            "1. one\n  • sub x\n2. two"
        );
        assert_eq!(
            plain("- loose\n\n  second para\n\n- item"),
            "• loose\n\n  second para\n• item"
        );
        assert_eq!(
            html("- **b** `c`\n- [l](https://e.com)"),
            "• <b>b</b> <code>c</code>\n• <a href=\"https://e.com\">l</a>"
        );
        assert_eq!(
            html("- item\n\n  ```sh\n  ls\n  ```"),
            "• item\n<pre><code class=\"language-sh\">ls</code></pre>"
        );
        assert_eq!(plain("- wrapped\n  line"), "• wrapped\n  line");
        assert_eq!(
            plain("intro\n\n- a\n- b\n\noutro"),
            "intro\n\n• a\n• b\n\noutro"
        );
    }

    #[test]
    fn task_lists() {
        assert_eq!(
            plain("- [ ] todo\n- [x] done\n  - [ ] nested\n- plain"),
            "☐ todo\n☑ done\n  ☐ nested\n• plain"
        );
        assert_eq!(plain("1. [x] first"), "1. ☑ first");
    }

    #[test]
    fn tables() {
        let table = "| Name | Qty | Note |\n|:-----|----:|:----:|\n| apple | 3 | *ripe* |\n| kiwi & co | 12 | `x<y` |";
        let part = one(table);
        assert_eq!(
            part.plain,
            "Name      | Qty | Note\n----------+-----+-----\napple     |   3 | ripe\nkiwi & co |  12 | x<y"
        );
        assert!(part.html.starts_with("<pre>") && part.html.ends_with("</pre>"));
        assert!(part.html.contains("kiwi &amp; co |  12 | x&lt;y"));
        assert_eq!(
            plain("before\n\n| a | b |\n|---|---|\n| [l](https://e.com) | c\\|d |\n\nafter"),
            "before\n\na | b\n--+----\nl | c|d\n\nafter"
        );
    }

    #[test]
    fn block_quotes() {
        assert_eq!(
            html("> quoted **bold**\n> more\n\nafter"),
            "<blockquote>quoted <b>bold</b>\nmore</blockquote>\n\nafter"
        );
        assert_eq!(
            html("> see:\n>\n> ```rust\n> let a = b && c;\n> ```\n>\n> done `x`"),
            "<blockquote>see:\n\n<pre><code class=\"language-rust\">let a = b &amp;&amp; c;\
             </code></pre>\n\ndone <code>x</code></blockquote>"
        );
        // Telegram cannot nest quotes: the inner one joins the outer.
        assert_eq!(
            html("> outer\n>\n> > inner\n>\n> outer again"),
            "<blockquote>outer\n\ninner\n\nouter again</blockquote>"
        );
        assert_eq!(html("> - a\n> - b"), "<blockquote>• a\n• b</blockquote>");
        assert_eq!(
            html("- item\n\n  > quoted"),
            "• item\n\n  <blockquote>quoted</blockquote>"
        );
    }

    #[test]
    fn unicode_text() {
        let text = "Emoji 😀👩‍💻 CJK 中文字 RTL \u{200f}שלום\u{200e} عربي";
        assert_eq!(plain(text), text);
        assert_eq!(plain(&format!("**{text}**")), text);
    }

    #[test]
    fn windows_newlines() {
        assert_eq!(
            one("a\r\nb\r\n\r\n- x\r\n- y\r\n\r\n```sh\r\nls\r\npwd\r\n```\r\n").html,
            "a\nb\n\n• x\n• y\n\n<pre><code class=\"language-sh\">ls\npwd</code></pre>"
        );
        assert_eq!(plain("old\rmac"), "old\nmac");
    }

    #[test]
    fn exactly_at_limit_and_one_over() {
        let limit = 50;
        let exact = "x".repeat(limit);
        assert_eq!(checked(&exact, limit).len(), 1);
        let over = "x".repeat(limit + 1);
        let split = checked(&over, limit);
        assert_eq!(split.len(), 2);
        assert_eq!(split[0].plain.len(), limit);
        assert_eq!(split[1].plain, "x");

        // Two blocks and their separator exactly at the limit share a part; one more does not,
        // and then neither block is cut.
        let (a, b) = ("a".repeat(24), "b".repeat(24));
        let both = checked(&format!("{a}\n\n{b}"), limit);
        assert_eq!(both.len(), 1);
        assert_eq!(both[0].plain, format!("{a}\n\n{b}"));
        let b = "b".repeat(25);
        let apart = checked(&format!("{a}\n\n{b}"), limit);
        assert_eq!(
            apart.iter().map(|p| p.plain.as_str()).collect::<Vec<_>>(),
            [a.as_str(), b.as_str()]
        );

        let exact = "😀".repeat(limit / 2);
        assert_eq!(checked(&exact, limit).len(), 1);
        assert_eq!(checked(&format!("{exact}a"), limit).len(), 2);
        assert_eq!(checked(&"x".repeat(MESSAGE_LIMIT), MESSAGE_LIMIT).len(), 1);
        assert_eq!(
            checked(&"x".repeat(MESSAGE_LIMIT + 1), MESSAGE_LIMIT).len(),
            2
        );
    }

    fn code_pieces(parts: &[Part]) -> String {
        parts.iter().flat_map(|p| pre_contents(&p.html)).collect()
    }

    #[test]
    fn long_code_block_splits_at_lines() {
        let code: String = (0..400)
            .map(|i| format!("let value_{i:03} = compute(a < b && c > {i});\n"))
            .collect();
        let code = code.trim_end();
        assert!(code.len() > 10_000);
        let markdown = format!("```rust\n{code}\n```");
        let parts = checked(&markdown, MESSAGE_LIMIT);
        assert!(parts.len() >= 3);
        for part in &parts {
            assert!(part.html.starts_with("<pre><code class=\"language-rust\">"));
            assert!(part.html.ends_with("</code></pre>"));
            assert_eq!(part.html.matches("<pre>").count(), 1);
            // Cut at line ends only: every piece ends with a whole line.
            let whole_lines = part.plain.ends_with(");\n") || part.plain.ends_with(");");
            assert!(whole_lines, "cut inside a line: {:?}", part.plain);
        }
        assert_eq!(code_pieces(&parts), code);
    }

    #[test]
    fn long_code_line_is_hard_split() {
        let line: String = (0..10_000)
            .map(|i| ['a', '<', '&', '中', '😀'][i % 5])
            .collect();
        let markdown = format!("```\n{line}\n```\n\nafter");
        for limit in [MESSAGE_LIMIT, 50, 7] {
            let parts = checked(&markdown, limit);
            assert_eq!(code_pieces(&parts), line, "limit {limit}");
            assert!(parts.last().is_some_and(|p| p.plain.ends_with("after")));
        }
    }

    #[test]
    fn long_paragraph_without_spaces() {
        let text: String = (0..10_000)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        let parts = checked(&text, MESSAGE_LIMIT);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].plain.len(), MESSAGE_LIMIT);
        assert_eq!(
            parts.iter().map(|p| p.plain.as_str()).collect::<String>(),
            text
        );

        // Styles open at a cut are closed and reopened.
        let bold = checked(&format!("**{text}**"), MESSAGE_LIMIT);
        assert!(
            bold.iter()
                .all(|p| p.html.starts_with("<b>") && p.html.ends_with("</b>"))
        );
    }

    #[test]
    fn many_short_paragraphs() {
        let paragraphs: Vec<String> = (0..500)
            .map(|i| format!("Paragraph {i} says {}.", "word ".repeat(i % 17).trim_end()))
            .collect();
        let whole = paragraphs.join("\n\n");
        let parts = checked(&whole, MESSAGE_LIMIT);
        assert!(parts.len() > 3);
        for part in &parts {
            for paragraph in part.plain.split("\n\n") {
                assert!(
                    paragraphs.iter().any(|p| p == paragraph),
                    "cut: {paragraph:?}"
                );
            }
        }
        let joined: Vec<&str> = parts.iter().map(|p| p.plain.as_str()).collect();
        assert_eq!(joined.join("\n\n"), whole);
        // Greedy: no part could have taken the next part's first paragraph.
        for pair in parts.windows(2) {
            let next = pair[1].plain.split("\n\n").next().unwrap_or_default();
            assert!(visible_len(&pair[0].plain) + 2 + visible_len(next) > MESSAGE_LIMIT);
        }
    }

    #[test]
    fn long_paragraph_cuts_at_sentences_then_spaces() {
        let sentences = "This sentence is here. ".repeat(10);
        let parts = checked(sentences.trim_end(), 50);
        assert!(parts.iter().all(|p| p.plain.ends_with('.')), "{parts:#?}");
        assert!(parts.iter().all(|p| p.plain.starts_with("This")));

        let words = "lorem ipsum dolor sit amet ".repeat(10);
        let parts = checked(words.trim_end(), 30);
        let words: Vec<&str> = words.split_whitespace().collect();
        let rejoined: Vec<&str> = parts.iter().flat_map(|p| p.plain.split(' ')).collect();
        assert_eq!(rejoined, words);

        // A line end beats a sentence end.
        let lines = "one. two. three\nfour. five. six\nseven";
        let parts = checked(lines, 20);
        assert_eq!(parts[0].plain, "one. two. three");
    }

    #[test]
    fn long_list_cuts_at_items() {
        let list: String = (0..200).map(|i| format!("- item number {i}\n")).collect();
        let parts = checked(&list, 300);
        for part in &parts {
            assert!(part.plain.lines().all(|l| l.starts_with("• item number ")));
        }
        let items: usize = parts.iter().map(|p| p.plain.lines().count()).sum();
        assert_eq!(items, 200);
    }

    #[test]
    fn long_quote_keeps_quoting() {
        let quote = format!("> {}", "quoted words *here* ".repeat(30));
        for part in checked(&quote, 60) {
            assert!(part.html.starts_with("<blockquote>") && part.html.ends_with("</blockquote>"));
        }
    }

    #[test]
    fn multibyte_chars_at_the_boundary() {
        for limit in [5, 6, 7, 50, 51] {
            for prefix in ["", "a", "ab"] {
                let text = format!("{prefix}{}", "😀".repeat(60));
                let parts = checked(&text, limit);
                assert_eq!(
                    parts.iter().map(|p| p.plain.as_str()).collect::<String>(),
                    text
                );
                let code = format!("```\n{text}\n```");
                assert_eq!(code_pieces(&checked(&code, limit)), text);
            }
        }
        let mixed = "中😀\u{200f}é".repeat(100);
        assert_eq!(
            checked(&mixed, 9)
                .iter()
                .map(|p| p.plain.as_str())
                .collect::<String>(),
            mixed
        );
    }

    const MIXED: &str = "# Summary\n\nI changed **three** files and ran `cargo test` (a < b && c > d).\n\n\
        ## Details\n\n1. Edited `src/main.rs`:\n   ```rust\n   fn main() { println!(\"<hi> & bye\"); }\n   ```\n\
        2. Added a *test*\n   - with a [link](https://example.com/?q=1&r=\"2\")\n   - and ~~nothing~~ else\n\n\
        > Note: a quote with `code` and **bold**\n>\n> ```\n> inside quote\n> ```\n\n\
        | file | lines |\n|---|---:|\n| main.rs | 12 |\n| lib.rs | 3400 |\n\n\
        - [x] done\n- [ ] todo\n\n---\n\n<script>alert(1)</script>\n\n\
        Emoji 😀 and CJK 中文 and RTL \u{200f}עברית.\n\n    indented code\n    second line\n";

    #[test]
    fn long_mixed_answer() {
        let long = format!(
            "{MIXED}\n\n{}\n\n```python\n{}```\n\n{}",
            "Long paragraph sentence. ".repeat(300),
            "print('x < y')\n".repeat(400),
            MIXED.repeat(20)
        );
        for limit in [MESSAGE_LIMIT, 1000, 50] {
            let parts = checked(&long, limit);
            assert!(parts.len() > 2);
            assert_content_kept(&long, &parts);
        }
        let single = one(MIXED);
        assert!(
            single
                .html
                .contains("<a href=\"https://example.com/?q=1&amp;r=&quot;2&quot;\">link</a>")
        );
        assert!(
            single
                .html
                .contains("&lt;script&gt;alert(1)&lt;/script&gt;")
        );
        assert!(
            single
                .plain
                .contains("file    | lines\n--------+------\nmain.rs |    12")
        );
    }

    /// Splitting only drops whitespace: the non-whitespace text of all parts is the unsplit text.
    fn assert_content_kept(markdown: &str, parts: &[Part]) {
        let unsplit: String = render(markdown, usize::MAX)
            .iter()
            .flat_map(|p| p.plain.chars())
            .filter(|c| !c.is_whitespace())
            .collect();
        let split: String = parts
            .iter()
            .flat_map(|p| p.plain.chars())
            .filter(|c| !c.is_whitespace())
            .collect();
        assert_eq!(split, unsplit);
    }

    #[test]
    fn every_sample_at_small_limits() {
        let samples = [
            MIXED,
            "**bold *and italic* text that goes on and on** then `code` then [a link](https://e.com/x)",
            "> quote one two three four five six seven eight nine ten\n>\n> ```sh\n> echo a && echo b\n> ```",
            "- a\n  - b\n    - c d e f g h i j k l m n o p\n- [ ] task item with words",
            "| a | b |\n|---|---|\n| 1 | 2 |\n| long cell text | x |",
            "😀😀😀 中文中文 \u{200f}ab\u{200e} 👩‍💻👩‍💻",
            "a\n\n\n\nb\n\n\n\n\n\nc",
            "x&y<z>w\"q'",
        ];
        for sample in samples {
            for limit in [0, 1, 2, 3, 5, 10, 17, 50, 100] {
                let parts = checked(sample, limit);
                assert!(!parts.is_empty());
                assert_content_kept(sample, &parts);
            }
        }
    }

    /// Markdown-ish noise from a fixed-seed generator: every invariant must hold for any input.
    #[test]
    fn generated_inputs_keep_every_invariant() {
        const TOKENS: [&str; 32] = [
            "word",
            " ",
            "\n",
            "\n\n",
            "*",
            "**",
            "_",
            "`",
            "```",
            "```rust\n",
            "~~",
            "> ",
            "- ",
            "1. ",
            "7) ",
            "- [ ] ",
            "# ",
            "[a](https://x.io/?a&b)",
            "[j](javascript:x)",
            "<b>",
            "</i>",
            "&amp;",
            "&",
            "<",
            "😀",
            "中文",
            "\u{200f}",
            "|",
            "|---|\n",
            "    ",
            "\r\n",
            "![i](http://i)",
        ];
        for markdown in crate::render::random_markdown::token_soup(&TOKENS, 0x5eed, 300, 120) {
            for limit in [2, 7, 30, 300, MESSAGE_LIMIT] {
                let parts = checked(&markdown, limit);
                assert_content_kept(&markdown, &parts);
            }
        }
    }
}
