//! Writing blocks (see [`super::blocks`]) in a delimiter markup: Slack's mrkdwn and Discord's
//! Markdown. Both mark styles with characters around the text rather than with tags, so one writer
//! serves both, and a [`Dialect`] says which characters and how plain text is escaped.
//!
//! What delimiter markups need that tags do not:
//! - A delimiter only works next to text that is not whitespace (`*bold *` is not bold), so
//!   whitespace at the edge of a styled stretch is moved outside it, and no style spans a line
//!   end: a style is closed before a line break and reopened after it (quotes and headings are
//!   written as a prefix on every line instead).
//! - Delimiters can run into each other or into words: a closing `**` followed by an opening `*`
//!   reads as `***`, and Slack ignores a `*` with a letter on its outer side. A zero-width space
//!   (invisible) goes between the two in those places.
//! - A code block's fence is a line of its own, and a fence inside the code would end it early,
//!   so backticks in code are kept apart with zero-width spaces.
//!
//! The length a platform counts is that of the markup, so [`Markup`] measures a piece by writing
//! it; [`super::blocks::pack`] uses that to cut.

use super::blocks::{Measure, Run, Style, blocks, pack, plain_text, push_run};

/// Zero-width space: invisible, and not a letter, so it keeps delimiters apart from each other
/// and from words, and breaks up mentions.
pub(super) const ZWSP: char = '\u{200B}';

/// What a line holding a quote starts with.
const QUOTE_PREFIX: &str = "> ";

/// Where a piece of plain text sits, for escapes that depend on it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Context {
    /// The character written just before the text, markup included, if any.
    pub(super) prev: Option<char>,
    /// Whether only spaces precede the text on its line (line prefixes aside): where `>` starts a
    /// quote, `#` a heading, `-` a list.
    pub(super) line_start: bool,
}

/// One delimiter markup.
pub(super) trait Dialect {
    /// The most that one character of plain text can take once escaped.
    const MAX_CHAR_LEN: usize;
    /// Whether bold, italic and strikethrough delimiters work only at word boundaries (Slack):
    /// then a zero-width space goes between a delimiter and a letter or digit on its outer side.
    const WORD_BOUNDED: bool;

    /// The prefix of each line of a heading of `level`, if the platform has such a heading; other
    /// headings are shown as bold lines.
    fn heading_prefix(&self, level: u8) -> Option<&'static str>;
    /// The delimiter on both sides of bold, italic or strikethrough text.
    fn delimiter(&self, style: &Style) -> &'static str;
    /// A code block's opening fence, without its line end.
    fn fence(&self, lang: Option<&str>, out: &mut String);
    /// One line of a code block, without its line end.
    fn code_line(&self, line: &str, out: &mut String);
    /// Inline code, delimiters included.
    fn code_span(&self, code: &str, out: &mut String);
    /// A link with its already escaped `label`; no label when the link's text is its URL.
    fn link(&self, url: &str, label: Option<&str>, out: &mut String);
    /// Plain text (no line end), escaped so that nothing in it is read as markup.
    fn text(&self, text: &str, context: Context, out: &mut String);
}

/// Renders `markdown` in `dialect` cut into parts of at most `limit` characters of markup:
/// `(markup, visible text)` for each part.
pub(super) fn render<D: Dialect>(
    dialect: &D,
    markdown: &str,
    link_schemes: &[&str],
    limit: usize,
) -> Vec<(String, String)> {
    let limit = limit.max(D::MAX_CHAR_LEN);
    pack(blocks(markdown, link_schemes), limit, &Markup(dialect))
        .into_iter()
        .map(|runs| (write(dialect, &runs), plain_text(&runs)))
        .collect()
}

/// A dialect measuring a message as the platforms do: characters (Unicode scalar values) of
/// markup.
struct Markup<'d, D>(&'d D);

impl<D: Dialect> Measure for Markup<'_, D> {
    const MAX_CHAR_LEN: usize = D::MAX_CHAR_LEN;

    fn len(&self, runs: &[Run]) -> usize {
        write(self.0, runs).chars().count()
    }
}

/// The length of a bare `http://` or `https://` URL starting at `chars[at]` (0 if none): the
/// platforms link those themselves, and an escape inside one would end up in the link.
pub(super) fn bare_url_len(chars: &[char], at: usize, prev: Option<char>) -> usize {
    if prev.is_some_and(char::is_alphanumeric) {
        return 0;
    }
    let starts = ["http://", "https://"].iter().any(|scheme| {
        chars.len() >= at + scheme.len()
            && chars[at..at + scheme.len()]
                .iter()
                .zip(scheme.chars())
                .all(|(c, s)| c.eq_ignore_ascii_case(&s))
    });
    if !starts {
        return 0;
    }
    chars[at..]
        .iter()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '<' | '>' | '`' | '"'))
        .count()
}

/// Whether `rest` (what follows an `@`) starts with one of `words`, in any case: a possible mass
/// mention. A longer word (`@everyone3`) counts too: clients differ on where a mention ends, and
/// an invisible space after the `@` costs nothing.
pub(super) fn mentions(rest: &[char], words: &[&str]) -> bool {
    words.iter().any(|word| {
        let len = word.chars().count();
        rest.len() >= len
            && rest[..len]
                .iter()
                .zip(word.chars())
                .all(|(c, w)| c.eq_ignore_ascii_case(&w))
    })
}

/// Writes `c` percent-encoded if it would end a URL in markup (whitespace, brackets, `|`).
pub(super) fn push_url_char(c: char, out: &mut String) {
    if c.is_whitespace() || matches!(c, '<' | '>' | '(' | ')' | '|') {
        let mut buf = [0; 4];
        for byte in c.encode_utf8(&mut buf).bytes() {
            out.push_str(&format!("%{byte:02X}"));
        }
    } else {
        out.push(c);
    }
}

/// Writes a code block's `line`, with a zero-width space between two backticks so that no fence
/// can form inside; each character through `push`, which escapes it.
pub(super) fn push_code(line: &str, out: &mut String, push: impl Fn(char, &mut String)) {
    let mut prev = None;
    for c in line.chars() {
        if c == '`' && prev == Some('`') {
            out.push(ZWSP);
        }
        push(c, out);
        prev = Some(c);
    }
}

/// Writes the runs of one message in `dialect`.
fn write<D: Dialect>(dialect: &D, runs: &[Run]) -> String {
    let runs = hoist_whitespace(&lower(dialect, runs));
    let mut writer = Writer {
        dialect,
        out: String::new(),
        emphasis: Vec::new(),
        fence: None,
        line_start: true,
        content_start: true,
        after_fence: false,
    };
    for (index, run) in runs.iter().enumerate() {
        let next = runs.get(index + 1).and_then(|run| run.text.chars().next());
        writer.run(run, next);
    }
    writer.finish()
}

/// The styles a run is written with: a heading that does not start its line, or that the dialect
/// has no prefix for, becomes bold (once, if it was bold already), and a link's text is plain (a
/// Slack link label takes no markup; the same on Discord keeps one writer).
fn lower<D: Dialect>(dialect: &D, runs: &[Run]) -> Vec<Run> {
    let mut out = Vec::new();
    let mut in_heading = false;
    let mut heading_line = false;
    let mut line_start = true;
    for run in runs {
        let mut styles: Vec<Style> = Vec::new();
        let mut heading = false;
        for style in &run.styles {
            let style = match style {
                Style::Heading(level) => {
                    if !in_heading {
                        heading_line = line_start && dialect.heading_prefix(*level).is_some();
                    }
                    heading = true;
                    if heading_line {
                        style.clone()
                    } else {
                        Style::Bold
                    }
                }
                other => other.clone(),
            };
            let link = matches!(style, Style::Link(_));
            if !styles.contains(&style) {
                styles.push(style);
            }
            if link {
                break;
            }
        }
        in_heading = heading;
        push_run(&mut out, &run.text, &styles);
        if let Some(last) = run.text.chars().next_back() {
            line_start = last == '\n';
        }
    }
    out
}

/// Moves whitespace out of bold, italic and strikethrough unless the text on both sides has the
/// style too, and out of every inline style (links included) where it holds a line end.
fn hoist_whitespace(runs: &[Run]) -> Vec<Run> {
    struct Segment<'a> {
        text: &'a str,
        styles: &'a [Style],
        blank: bool,
    }
    let mut segments = Vec::new();
    for run in runs {
        let mut rest = run.text.as_str();
        while let Some(first) = rest.chars().next() {
            let blank = first.is_whitespace();
            let len = rest
                .find(|c: char| c.is_whitespace() != blank)
                .unwrap_or(rest.len());
            segments.push(Segment {
                text: &rest[..len],
                styles: &run.styles,
                blank,
            });
            rest = &rest[len..];
        }
    }
    let mut out = Vec::new();
    let mut before: &[Style] = &[];
    let mut index = 0;
    while index < segments.len() {
        if !segments[index].blank {
            push_run(&mut out, segments[index].text, segments[index].styles);
            before = segments[index].styles;
            index += 1;
            continue;
        }
        let end = (index..segments.len())
            .find(|i| !segments[*i].blank)
            .unwrap_or(segments.len());
        let after = segments.get(end).map_or(&[][..], |segment| segment.styles);
        let gap = &segments[index..end];
        let line_end = gap.iter().any(|segment| segment.text.contains('\n'));
        for segment in gap {
            let kept: Vec<Style> = segment
                .styles
                .iter()
                .filter(|style| match style {
                    Style::Bold | Style::Italic | Style::Strike => {
                        !line_end && before.contains(style) && after.contains(style)
                    }
                    Style::Link(_) | Style::Code => !line_end,
                    Style::Quote | Style::Heading(_) | Style::Pre(_) => true,
                })
                .cloned()
                .collect();
            push_run(&mut out, segment.text, &kept);
        }
        index = end;
    }
    out
}

/// A run's styles by the way they are written.
struct Shape<'r> {
    /// Written as a prefix on each line: quote, heading.
    line: Vec<Style>,
    pre: Option<&'r Option<String>>,
    /// Written as delimiters around the text: bold, italic, strikethrough.
    emphasis: Vec<Style>,
    /// Written as one piece with its text: inline code, link.
    leaf: Option<&'r Style>,
}

impl<'r> Shape<'r> {
    fn of(styles: &'r [Style]) -> Self {
        let mut shape = Shape {
            line: Vec::new(),
            pre: None,
            emphasis: Vec::new(),
            leaf: None,
        };
        for style in styles {
            match style {
                Style::Quote | Style::Heading(_) => shape.line.push(style.clone()),
                Style::Pre(lang) => shape.pre = Some(lang),
                Style::Bold | Style::Italic | Style::Strike => shape.emphasis.push(style.clone()),
                Style::Code | Style::Link(_) => shape.leaf = Some(style),
            }
        }
        shape
    }
}

struct Writer<'d, D> {
    dialect: &'d D,
    out: String,
    /// Bold, italic, strikethrough open now, outermost first.
    emphasis: Vec<Style>,
    /// The open code block: its language and the line styles its lines are prefixed with.
    fence: Option<(Option<String>, Vec<Style>)>,
    /// Nothing, not even a prefix, is written on the current line yet.
    line_start: bool,
    /// Only prefixes and spaces are written on the current line yet.
    content_start: bool,
    /// A closing fence was just written: whatever follows goes on a new line.
    after_fence: bool,
}

impl<D: Dialect> Writer<'_, D> {
    fn run(&mut self, run: &Run, next: Option<char>) {
        let shape = Shape::of(&run.styles);
        if let Some(lang) = shape.pre {
            self.transition(&[], &shape.line, None);
            let fence = (lang.clone(), shape.line);
            if self.fence.as_ref() != Some(&fence) {
                self.close_fence();
                self.open_fence(fence);
            }
            self.code_block(&run.text);
            return;
        }
        self.close_fence();
        let first = match shape.leaf {
            Some(_) => None,
            None => run.text.chars().next(),
        };
        self.transition(&shape.emphasis, &shape.line, first);
        match shape.leaf {
            Some(Style::Link(url)) => {
                self.begin(&shape.line);
                let label = (run.text != *url).then(|| {
                    let mut label = String::new();
                    let context = Context {
                        prev: None,
                        line_start: false,
                    };
                    self.dialect.text(&run.text, context, &mut label);
                    label
                });
                self.dialect.link(url, label.as_deref(), &mut self.out);
                self.content_start = false;
            }
            Some(_) => {
                self.begin(&shape.line);
                if D::WORD_BOUNDED
                    && self
                        .out
                        .chars()
                        .next_back()
                        .is_some_and(char::is_alphanumeric)
                {
                    self.out.push(ZWSP);
                }
                self.dialect.code_span(&run.text, &mut self.out);
                if D::WORD_BOUNDED && self.starts_word(next) {
                    self.out.push(ZWSP);
                }
                self.content_start = false;
            }
            None => self.text(&run.text, &shape.line),
        }
    }

    fn finish(mut self) -> String {
        self.transition(&[], &[], None);
        self.close_fence();
        self.out
    }

    /// Gets ready to write on the current line: on a new one after a fence, after the line's
    /// prefixes.
    fn begin(&mut self, line: &[Style]) {
        if self.after_fence {
            self.newline();
        }
        if self.line_start {
            for style in line {
                match style {
                    Style::Quote => self.out.push_str(QUOTE_PREFIX),
                    Style::Heading(level) => {
                        self.out
                            .push_str(self.dialect.heading_prefix(*level).unwrap_or_default());
                    }
                    _ => {}
                }
            }
            self.line_start = false;
        }
    }

    fn newline(&mut self) {
        self.out.push('\n');
        self.line_start = true;
        self.content_start = true;
        self.after_fence = false;
    }

    /// Closes and opens delimiters so that exactly `target` is open, before text starting with
    /// `first`.
    fn transition(&mut self, target: &[Style], line: &[Style], first: Option<char>) {
        let common = self
            .emphasis
            .iter()
            .zip(target)
            .take_while(|(open, wanted)| open == wanted)
            .count();
        let mut closed = false;
        while self.emphasis.len() > common {
            if let Some(style) = self.emphasis.pop() {
                self.out.push_str(self.dialect.delimiter(&style));
                closed = true;
            }
        }
        if target.len() > common {
            if closed {
                self.out.push(ZWSP);
            } else {
                self.begin(line);
                if D::WORD_BOUNDED
                    && self
                        .out
                        .chars()
                        .next_back()
                        .is_some_and(char::is_alphanumeric)
                {
                    self.out.push(ZWSP);
                }
            }
            for style in &target[common..] {
                self.out.push_str(self.dialect.delimiter(style));
                self.emphasis.push(style.clone());
            }
            self.content_start = false;
        } else if closed && D::WORD_BOUNDED && self.starts_word(first) {
            self.out.push(ZWSP);
        }
    }

    /// Whether text starting with `first` starts, once escaped, with a letter or digit (a
    /// look-alike may be one).
    fn starts_word(&self, first: Option<char>) -> bool {
        first.is_some_and(|c| {
            let mut escaped = String::new();
            let context = Context {
                prev: Some(' '),
                line_start: false,
            };
            self.dialect
                .text(c.encode_utf8(&mut [0; 4]), context, &mut escaped);
            escaped.chars().next().is_some_and(char::is_alphanumeric)
        })
    }

    fn text(&mut self, text: &str, line: &[Style]) {
        for (index, line_text) in text.split('\n').enumerate() {
            if index > 0 {
                if !self.after_fence {
                    // An empty line in a quote keeps its prefix, or the quote would end there.
                    self.begin(line);
                }
                self.newline();
            }
            if line_text.is_empty() {
                continue;
            }
            self.begin(line);
            let context = Context {
                prev: self.out.chars().next_back(),
                line_start: self.content_start,
            };
            self.dialect.text(line_text, context, &mut self.out);
            self.content_start &= line_text.chars().all(|c| c == ' ');
        }
    }

    fn open_fence(&mut self, fence: (Option<String>, Vec<Style>)) {
        if !self.line_start {
            self.newline();
        }
        self.begin(&fence.1);
        self.dialect.fence(fence.0.as_deref(), &mut self.out);
        self.newline();
        self.fence = Some(fence);
    }

    fn code_block(&mut self, text: &str) {
        let line = self.fence.as_ref().map(|f| f.1.clone()).unwrap_or_default();
        for (index, code) in text.split('\n').enumerate() {
            if index > 0 {
                self.begin(&line);
                self.newline();
            }
            if !code.is_empty() {
                self.begin(&line);
                self.dialect.code_line(code, &mut self.out);
            }
        }
    }

    fn close_fence(&mut self) {
        if let Some((_, line)) = self.fence.take() {
            if !self.line_start {
                self.newline();
            }
            self.begin(&line);
            self.out.push_str("```");
            self.after_fence = true;
        }
    }
}

/// What the Slack and Discord tests share: a model of the line structure both markups have, and
/// generated Markdown to hold them to their invariants.
#[cfg(test)]
pub(super) mod testing {
    /// Asserts what must hold for every rendered part, given as `(markup, plain)`: the markup
    /// shows (by `check`) exactly the plain text (compared through `fold`), fits `limit` (at
    /// least `floor`, the longest escape), is no longer than its plain text is, is not blank,
    /// and has no carriage return.
    pub(crate) fn assert_parts(
        markdown: &str,
        limit: usize,
        floor: usize,
        parts: &[(&str, &str)],
        check: impl Fn(&str) -> Result<String, String>,
        fold: impl Fn(&str) -> String,
    ) {
        for (markup, plain) in parts {
            let shown = check(markup)
                .map(|shown| shown.trim_end_matches('\n').to_owned())
                .unwrap_or_else(|e| panic!("{e}\nin {markup:?}\nfrom {markdown:?}"));
            assert_eq!(
                shown,
                fold(plain).trim_end_matches('\n'),
                "plain differs from visible text of {markup:?}"
            );
            let len = markup.chars().count();
            assert!(
                len <= limit.max(floor),
                "part of {len} over {limit}: {markup:?}"
            );
            assert!(plain.chars().count() <= len);
            assert!(!plain.trim().is_empty(), "blank part");
            assert!(!markup.contains('\r'));
        }
    }

    /// The visible text of `markup` by the structure Slack and Discord share, or why they would
    /// not show it as meant: lines, each maybe quoted (`> `), and code blocks between fence lines
    /// (a quoted block has every line quoted). A line outside code goes through `inline`, a line of
    /// code through `code`, each returning its visible text. Fence lines show nothing; an opening
    /// fence may name a language only if `languages`.
    pub(crate) fn visible(
        markup: &str,
        languages: bool,
        inline: impl Fn(&str) -> Result<String, String>,
        code: impl Fn(&str) -> Result<String, String>,
    ) -> Result<String, String> {
        let mut lines = Vec::new();
        // In a code block: whether it is quoted.
        let mut fence: Option<bool> = None;
        for line in markup.split('\n') {
            let (quoted, rest) = match line.strip_prefix("> ") {
                Some(rest) => (true, rest),
                None => (false, line),
            };
            if let Some(fence_quoted) = fence {
                let rest = match (fence_quoted, quoted) {
                    (true, true) => rest,
                    (true, false) => return Err(format!("unquoted line in a quote: {line:?}")),
                    (false, _) => line,
                };
                if rest == "```" {
                    fence = None;
                } else if rest.contains("```") {
                    return Err(format!("fence inside code: {line:?}"));
                } else {
                    lines.push(code(rest)?);
                }
                continue;
            }
            match rest.strip_prefix("```") {
                Some(lang) if lang.is_empty() || languages => {
                    let valid = |c: char| c.is_ascii_alphanumeric() || "_+-".contains(c);
                    if !lang.chars().all(valid) {
                        return Err(format!("bad language {lang:?}"));
                    }
                    fence = Some(quoted);
                }
                Some(_) => return Err(format!("language on {line:?}")),
                None => lines.push(inline(rest)?),
            }
        }
        if fence.is_some() {
            return Err("unclosed code block".to_owned());
        }
        Ok(lines.join("\n"))
    }

    /// Splitting only drops whitespace: the non-whitespace text of the parts is the unsplit text.
    pub(crate) fn assert_content_kept(unsplit: &[String], parts: &[String]) {
        let letters = |texts: &[String]| -> String {
            texts
                .iter()
                .flat_map(|text| text.chars())
                .filter(|c| !c.is_whitespace())
                .collect()
        };
        assert_eq!(letters(parts), letters(unsplit));
    }

    /// A few hundred Markdown documents mixing every construct, injection attempts and edge cases
    /// (from a fixed-seed generator, so every run tests the same ones).
    pub(crate) fn generated_markdown() -> Vec<String> {
        const PIECES: [&str; 40] = [
            "text",
            " ",
            "\n",
            "\n\n",
            "*",
            "**",
            "_",
            "__",
            "~~",
            "~",
            "`",
            "```",
            "```py\n",
            "> ",
            "- ",
            "3. ",
            "- [x] ",
            "## ",
            "#### ",
            "[l](https://x.io/?a&b_c)",
            "[m](mailto:a@b.c)",
            "[j](javascript:x)",
            "<https://x.io/a_b>",
            " https://x.io/a_b_c?d&e ",
            "![i](http://i/x.png)",
            "<!channel>",
            "<@U123>",
            "@everyone",
            "@here",
            "<b>",
            "&amp;",
            "&",
            "<",
            ">",
            "\\",
            "snake_case",
            "😀中文",
            "|a|b|\n|---|---|\n",
            "    ",
            "\r\n",
        ];
        crate::render::random_markdown::token_soup(&PIECES, 0x0dd5_eed5, 300, 100)
    }
}
