//! The platform-neutral half of rendering: Markdown to a list of top-level blocks of styled text,
//! and those blocks packed into messages. Each platform module supplies the other half, the markup
//! it writes for a list of runs and how it measures a message ([`Measure`]).
//!
//! A block is a list of runs of visible text, each with the stack of styles around it. Cutting a
//! run list anywhere yields two run lists that each render to balanced markup, so a split can never
//! land inside a tag, a link or an escape, and styles open at the cut are closed in one part and
//! reopened in the next for free.
//!
//! Splitting packs whole blocks first because a reader follows a long answer message by message:
//! a paragraph, list or code block cut in two is much harder to read (and a code block harder to
//! copy) than one that starts a new message. Only a block that cannot fit in any message is cut,
//! at the gentlest boundary available: a line, then a sentence, then a space, and a character as a
//! last resort. Code is cut only at lines or characters, and keeps its line ends, so the pieces
//! concatenate back to the exact source.
//!
//! Platforms count a message differently: Telegram counts the visible text, Slack and Discord the
//! markup itself, where an escape or a link's URL take room too and the length of a piece is not
//! even quite monotonic in its text (whether a character needs escaping can depend on the next).
//! So every piece is measured as the platform would measure it, and shortened until it fits.
//!
//! The block model follows the strictest platform (Telegram): inline code stands alone (outside
//! bold or italic; inside a link it is plain link text), and quotes do not nest (a nested quote
//! joins its parent). Everything here is deterministic (no maps, no clocks): callers re-render the
//! same text and rely on getting the same parts, e.g. to edit messages already sent.

use pulldown_cmark::{Alignment, CodeBlockKind, Event, LinkType, Options, Parser, Tag, TagEnd};

/// What separates two top-level blocks: one blank line.
pub(super) const BLOCK_SEPARATOR: &str = "\n\n";

/// A horizontal rule: no platform has one in its message markup, so a line of em dashes stands in.
const RULE: &str = "——————";

/// Formatting around a run of visible text, outermost first in [`Run::styles`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Style {
    Quote,
    /// A heading of level 1 to 6: bold text on platforms without headings.
    Heading(u8),
    /// A code block, with its (already sanitized) language.
    Pre(Option<String>),
    /// A link to a URL whose scheme the platform allows.
    Link(String),
    Bold,
    Italic,
    Strike,
    Code,
}

/// Visible text under one stack of styles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Run {
    pub(super) text: String,
    pub(super) styles: Vec<Style>,
}

/// Appends `text`, merging it into the last run when the styles are the same.
pub(super) fn push_run(runs: &mut Vec<Run>, text: &str, styles: &[Style]) {
    if text.is_empty() {
        return;
    }
    if let Some(last) = runs.last_mut()
        && last.styles == styles
    {
        last.text.push_str(text);
        return;
    }
    runs.push(Run {
        text: text.to_owned(),
        styles: styles.to_vec(),
    });
}

pub(super) fn plain_text(runs: &[Run]) -> String {
    runs.iter().map(|run| run.text.as_str()).collect()
}

fn is_blank(runs: &[Run]) -> bool {
    runs.iter().all(|run| run.text.trim().is_empty())
}

/// Removes trailing whitespace, dropping runs that become empty.
fn trim_end(runs: &mut Vec<Run>) {
    while let Some(last) = runs.last_mut() {
        let kept = last.text.trim_end().len();
        last.text.truncate(kept);
        if !last.text.is_empty() {
            return;
        }
        runs.pop();
    }
}

/// How a platform measures a message: all that [`pack`] needs to know about it.
pub(super) trait Measure {
    /// The most that one character, without styles, can add to a message (an escape, or a
    /// surrogate pair). Limits below this cannot always be met.
    const MAX_CHAR_LEN: usize;

    /// The length of a message holding `runs`, as the platform counts it.
    fn len(&self, runs: &[Run]) -> usize;

    /// The end (a byte offset in `text`, the text of `block`) of the longest piece starting at
    /// `pos` that fits in `limit`; at least one character past `pos`, or splitting would never
    /// progress. It may overshoot when the length is not monotonic: [`split_block`] checks.
    fn fitting_end(&self, block: &Indexed<'_>, text: &str, pos: usize, limit: usize) -> usize {
        // Every character takes at least one unit, so no piece of more than `limit` of them fits
        // (bar trailing whitespace, which a piece loses anyway).
        let ends: Vec<usize> = text[pos..]
            .char_indices()
            .skip(1)
            .map(|(i, _)| pos + i)
            .chain(std::iter::once(text.len()))
            .take(limit.max(1))
            .collect();
        let (mut fits, mut too_long) = (0, ends.len());
        while too_long - fits > 1 {
            let mid = fits + (too_long - fits) / 2;
            if self.len(&block.piece(pos, ends[mid])) <= limit {
                fits = mid;
            } else {
                too_long = mid;
            }
        }
        ends[fits]
    }
}

/// A block's runs with the byte offset where each starts in the block's text, so that cutting a
/// long block into many pieces stays linear.
pub(super) struct Indexed<'a> {
    runs: &'a [Run],
    starts: Vec<usize>,
}

impl<'a> Indexed<'a> {
    fn new(runs: &'a [Run]) -> Self {
        let starts = runs
            .iter()
            .scan(0, |offset, run| {
                let start = *offset;
                *offset += run.text.len();
                Some(start)
            })
            .collect();
        Indexed { runs, starts }
    }

    /// Index of the run holding byte `at`.
    fn run_at(&self, at: usize) -> usize {
        self.starts
            .partition_point(|start| *start <= at)
            .saturating_sub(1)
    }

    /// The runs covering bytes `start..end` of the text (both on char boundaries).
    fn slice(&self, start: usize, end: usize) -> Vec<Run> {
        let mut out = Vec::new();
        let first = self.run_at(start);
        for (run, run_start) in self.runs[first..].iter().zip(&self.starts[first..]) {
            if *run_start >= end {
                break;
            }
            let from = start.max(*run_start) - run_start;
            let to = end.min(run_start + run.text.len()) - run_start;
            if let Some(text) = run.text.get(from..to) {
                push_run(&mut out, text, &run.styles);
            }
        }
        out
    }

    /// Bytes `start..end` as a message holds them: prose loses its trailing whitespace (a message
    /// does not end with a line break), code keeps it.
    fn piece(&self, start: usize, end: usize) -> Vec<Run> {
        let mut piece = self.slice(start, end);
        if end > start && !self.in_pre(end - 1) {
            trim_end(&mut piece);
        }
        piece
    }

    /// Whether byte `at` of the text is inside a code block.
    fn in_pre(&self, at: usize) -> bool {
        self.runs.get(self.run_at(at)).is_some_and(|run| {
            run.styles
                .iter()
                .any(|style| matches!(style, Style::Pre(_)))
        })
    }
}

/// Greedily fills parts with whole blocks; a block too long for any part is cut on its own.
/// No part is empty or blank.
pub(super) fn pack<M: Measure>(blocks: Vec<Vec<Run>>, limit: usize, measure: &M) -> Vec<Vec<Run>> {
    let separator_len = measure.len(&[Run {
        text: BLOCK_SEPARATOR.to_owned(),
        styles: Vec::new(),
    }]);
    let mut parts = Vec::new();
    let mut current: Vec<Run> = Vec::new();
    let mut current_len = 0;
    for mut block in blocks {
        fit_styles(&mut block, limit, measure);
        let len = measure.len(&block);
        if len > limit {
            if !current.is_empty() {
                parts.push(std::mem::take(&mut current));
            }
            let mut pieces = split_block(&block, limit, measure);
            // The last piece may share its part with the blocks that follow.
            current = pieces.pop().unwrap_or_default();
            current_len = measure.len(&current);
            parts.extend(pieces);
        } else if current.is_empty() {
            current = block;
            current_len = len;
        } else if current_len + separator_len + len <= limit {
            push_run(&mut current, BLOCK_SEPARATOR, &[]);
            current.extend(block);
            current_len += separator_len + len;
        } else {
            parts.push(std::mem::replace(&mut current, block));
            current_len = len;
        }
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

/// Drops, innermost first, the styles a run could not keep even for a single character in a
/// message of `limit` (a link to a URL longer than a message): its text is shown without them.
fn fit_styles<M: Measure>(block: &mut [Run], limit: usize, measure: &M) {
    for run in block {
        while !run.styles.is_empty() {
            let one = Run {
                text: "x".to_owned(),
                styles: run.styles.clone(),
            };
            if measure.len(&[one]) - 1 + M::MAX_CHAR_LEN <= limit {
                break;
            }
            run.styles.pop();
        }
    }
}

/// Cuts one block into pieces that each fit in `limit`, none of them blank.
fn split_block<M: Measure>(block: &[Run], limit: usize, measure: &M) -> Vec<Vec<Run>> {
    let text = plain_text(block);
    let block = Indexed::new(block);
    let mut pieces = Vec::new();
    let mut pos = 0;
    while pos < text.len() {
        let mut hard = measure.fitting_end(&block, &text, pos, limit);
        let (piece, next) = loop {
            let (end, next) = cut(&block, &text, pos, hard);
            let piece = block.piece(pos, end);
            if measure.len(&piece) <= limit {
                break (piece, next);
            }
            // Longer than it looked (an escape depends on what follows): try a shorter piece.
            match text[pos..end].char_indices().next_back() {
                Some((last, _)) if last > 0 => hard = pos + last,
                // Not even one character fits with its styles: show it without them.
                _ => {
                    let bare = Run {
                        text: text[pos..end].to_owned(),
                        styles: Vec::new(),
                    };
                    break (vec![bare], next);
                }
            }
        };
        if !is_blank(&piece) {
            pieces.push(piece);
        }
        pos = next;
        // A cut in prose drops the line breaks around it: a message does not start with one.
        while text[pos..].starts_with('\n') && !block.in_pre(pos) {
            pos += 1;
        }
    }
    pieces
}

/// Where to cut the text whose bytes `pos..hard` fit: the end of this piece and the start of the
/// next.
fn cut(block: &Indexed<'_>, text: &str, pos: usize, hard: usize) -> (usize, usize) {
    if hard == text.len() {
        return (hard, hard);
    }
    let last_char = text[..hard]
        .char_indices()
        .next_back()
        .map_or(pos, |(i, _)| i);
    if block.in_pre(last_char) {
        code_cut(text, pos, hard)
    } else {
        prose_cut(text, pos, hard)
    }
}

/// Where to cut code whose first `hard` bytes fit: after the last line end, else at `hard`.
/// Returns the end of this piece and the start of the next; code loses nothing at a cut.
fn code_cut(text: &str, pos: usize, hard: usize) -> (usize, usize) {
    match text[pos..hard].rfind('\n') {
        Some(i) if i > 0 => (pos + i + 1, pos + i + 1),
        _ => (hard, hard),
    }
}

/// Where to cut prose whose first `hard` bytes fit: at a line end, a sentence end, a space, in
/// that order of preference, else at `hard`. The character a cut lands on (line end or space) is
/// dropped. A boundary in the second half of the window is preferred over a better kind of
/// boundary near its start, which would leave a tiny message.
fn prose_cut(text: &str, pos: usize, hard: usize) -> (usize, usize) {
    // The char right after the window may be the boundary itself: "…fits exactly.\n".
    let window_end = text[hard..]
        .chars()
        .next()
        .map_or(hard, |c| hard + c.len_utf8());
    let window = &text[pos..window_end];
    let half = (hard - pos) / 2;
    let line = window.rfind('\n').map(|i| (i, i + 1));
    let sentence = window.rfind(". ").map(|i| (i + 1, i + 2));
    let space = window
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map(|(i, c)| (i, i + c.len_utf8()));
    for min in [half, 1] {
        for (end, next) in [line, sentence, space].into_iter().flatten() {
            if end >= min && !window[..end].trim().is_empty() {
                return (pos + end, pos + next);
            }
        }
    }
    (hard, hard)
}

/// The top-level blocks of `markdown`; links survive only to URLs whose scheme is in
/// `link_schemes` (compared case-insensitively), the others show their text alone.
pub(super) fn blocks(markdown: &str, link_schemes: &[&str]) -> Vec<Vec<Run>> {
    let markdown = markdown.replace("\r\n", "\n").replace('\r', "\n");
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut builder = Builder {
        link_schemes,
        ..Builder::default()
    };
    for event in Parser::new_ext(&markdown, options) {
        builder.event(event);
    }
    builder.finish_block();
    builder.blocks
}

/// A code block being collected: its text arrives in several events.
struct CodeBlock {
    lang: Option<String>,
    text: String,
}

/// A table being collected as plain cells, laid out when it ends.
struct Table {
    aligns: Vec<Alignment>,
    rows: Vec<Vec<String>>,
}

/// How a link or image ended up: whether it pushed a [`Style::Link`], and where its text began so
/// an empty one can show its URL instead (a link with no text would be invisible).
struct LinkFrame {
    pushed: bool,
    url: String,
    text_start: Option<usize>,
}

/// Turns pulldown-cmark events into top-level blocks of styled runs.
#[derive(Default)]
struct Builder<'a> {
    link_schemes: &'a [&'a str],
    blocks: Vec<Vec<Run>>,
    current: Vec<Run>,
    /// Byte length of the text in `current`.
    len: usize,
    /// `len` right after a block start wrote its line ends, so that a nested block starting at
    /// the same place (a paragraph opening a quote) does not add more.
    fresh_at: Option<usize>,
    /// Open tags of any kind; back at zero, a top-level block is complete.
    depth: usize,
    quotes: usize,
    inline: Vec<Style>,
    links: Vec<LinkFrame>,
    /// One entry per open list: the next number for ordered lists.
    lists: Vec<Option<u64>>,
    /// The marker of a list item, written just before the item's first content so that a task
    /// list checkbox can still replace it.
    marker: Option<String>,
    code: Option<CodeBlock>,
    table: Option<Table>,
}

impl Builder<'_> {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => {
                self.depth += 1;
                self.start(tag);
            }
            Event::End(tag) => {
                self.end(tag);
                self.depth = self.depth.saturating_sub(1);
                if self.depth == 0 {
                    self.finish_block();
                }
            }
            Event::Text(text)
            | Event::Html(text)
            | Event::InlineHtml(text)
            | Event::InlineMath(text)
            | Event::DisplayMath(text) => self.text(&text),
            Event::Code(code) => self.inline_code(&code),
            Event::FootnoteReference(name) => self.text(&format!("[^{name}]")),
            Event::SoftBreak | Event::HardBreak => self.line_break(),
            Event::Rule => {
                self.block_start(true, true);
                self.push_text(RULE);
                if self.depth == 0 {
                    self.finish_block();
                }
            }
            Event::TaskListMarker(done) => {
                let checkbox = if done { "☑ " } else { "☐ " };
                if let Some(marker) = &mut self.marker {
                    match marker.strip_suffix("• ") {
                        Some(indent) => *marker = format!("{indent}{checkbox}"),
                        None => marker.push_str(checkbox),
                    }
                }
            }
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph | Tag::HtmlBlock => self.block_start(true, true),
            Tag::Heading { level, .. } => {
                self.block_start(true, true);
                self.inline.push(Style::Heading(level as u8));
            }
            Tag::BlockQuote(_) => {
                self.block_start(true, true);
                self.quotes += 1;
            }
            Tag::CodeBlock(kind) => {
                self.preformatted_start();
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => sanitize_language(&info),
                    CodeBlockKind::Indented => None,
                };
                self.code = Some(CodeBlock {
                    lang,
                    text: String::new(),
                });
            }
            Tag::List(first) => {
                self.block_start(false, false);
                self.lists.push(first);
            }
            Tag::Item => {
                self.flush_marker();
                self.ensure_newlines(1);
                let indent = "  ".repeat(self.lists.len().saturating_sub(1));
                let bullet = match self.lists.last_mut() {
                    Some(Some(number)) => {
                        let bullet = format!("{number}. ");
                        *number = number.saturating_add(1);
                        bullet
                    }
                    _ => "• ".to_owned(),
                };
                self.marker = Some(format!("{indent}{bullet}"));
            }
            Tag::Table(aligns) => {
                self.preformatted_start();
                self.table = Some(Table {
                    aligns,
                    rows: Vec::new(),
                });
            }
            Tag::TableHead | Tag::TableRow => {
                if let Some(table) = &mut self.table {
                    table.rows.push(Vec::new());
                }
            }
            Tag::TableCell => {
                if let Some(row) = self.table.as_mut().and_then(|table| table.rows.last_mut()) {
                    row.push(String::new());
                }
            }
            Tag::Emphasis => self.inline.push(Style::Italic),
            Tag::Strong => self.inline.push(Style::Bold),
            Tag::Strikethrough => self.inline.push(Style::Strike),
            Tag::Link {
                link_type,
                dest_url,
                ..
            }
            | Tag::Image {
                link_type,
                dest_url,
                ..
            } => {
                let url = if link_type == LinkType::Email && !dest_url.starts_with("mailto:") {
                    format!("mailto:{dest_url}")
                } else {
                    dest_url.trim().to_owned()
                };
                let in_link = self.inline.iter().any(|s| matches!(s, Style::Link(_)));
                let pushed = self.table.is_none() && !in_link && self.is_linkable(&url);
                if pushed {
                    self.inline.push(Style::Link(url.clone()));
                }
                let text_start = self.table.is_none().then_some(self.len);
                self.links.push(LinkFrame {
                    pushed,
                    url,
                    text_start,
                });
            }
            Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::MetadataBlock(_) => self.block_start(true, true),
            Tag::Superscript | Tag::Subscript => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Heading(_) | TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => {
                self.inline.pop();
            }
            TagEnd::BlockQuote(_) => self.quotes = self.quotes.saturating_sub(1),
            TagEnd::HtmlBlock => {
                trim_end(&mut self.current);
                self.len = self.current.iter().map(|run| run.text.len()).sum();
            }
            TagEnd::CodeBlock => {
                if let Some(code) = self.code.take() {
                    self.push_pre(code.text.trim_end_matches('\n'), code.lang);
                }
            }
            TagEnd::List(_) => {
                self.lists.pop();
            }
            TagEnd::Item => self.flush_marker(),
            TagEnd::Table => {
                if let Some(table) = self.table.take() {
                    self.push_pre(&layout_table(&table), None);
                }
            }
            TagEnd::Link | TagEnd::Image => {
                if let Some(frame) = self.links.pop() {
                    if let Some(start) = frame.text_start
                        && self.len == start
                    {
                        self.push_text(&frame.url);
                    }
                    if frame.pushed {
                        self.inline.pop();
                    }
                }
            }
            _ => {}
        }
    }

    /// Only links to an allowed scheme survive; the scheme is compared case-insensitively.
    fn is_linkable(&self, url: &str) -> bool {
        url.split_once(':').is_some_and(|(scheme, _)| {
            self.link_schemes
                .iter()
                .any(|allowed| scheme.eq_ignore_ascii_case(allowed))
        })
    }

    /// The styles every run gets from its block context.
    fn context(&self) -> Vec<Style> {
        if self.quotes > 0 {
            vec![Style::Quote]
        } else {
            Vec::new()
        }
    }

    fn text(&mut self, text: &str) {
        if let Some(code) = &mut self.code {
            code.text.push_str(text);
        } else if let Some(table) = &mut self.table {
            if let Some(cell) = table.rows.last_mut().and_then(|row| row.last_mut()) {
                cell.push_str(text);
            }
        } else {
            self.push_text(text);
        }
    }

    fn push(&mut self, text: &str, styles: &[Style]) {
        push_run(&mut self.current, text, styles);
        self.len += text.len();
    }

    fn push_text(&mut self, text: &str) {
        self.flush_marker();
        let mut styles = self.context();
        styles.extend(self.inline.iter().cloned());
        self.push(text, &styles);
    }

    /// Inline code stands alone: Telegram lets `code` sit in nothing but a blockquote, so it
    /// drops the surrounding bold/italic, and inside a link it is plain link text.
    fn inline_code(&mut self, code: &str) {
        let in_link = self.inline.iter().any(|s| matches!(s, Style::Link(_)));
        if self.table.is_some() || in_link {
            self.text(code);
            return;
        }
        self.flush_marker();
        let mut styles = self.context();
        styles.push(Style::Code);
        self.push(code, &styles);
    }

    fn push_pre(&mut self, text: &str, lang: Option<String>) {
        let mut styles = self.context();
        styles.push(Style::Pre(lang));
        self.push(text, &styles);
    }

    fn line_break(&mut self) {
        if self.table.is_some() {
            self.text(" ");
            return;
        }
        self.push_text("\n");
        if !self.lists.is_empty() {
            self.push_text(&"  ".repeat(self.lists.len()));
        }
    }

    fn flush_marker(&mut self) {
        if let Some(marker) = self.marker.take() {
            let styles = self.context();
            self.push(&marker, &styles);
        }
    }

    /// Makes the current block end with `count` line ends (none at the start of a block).
    fn ensure_newlines(&mut self, count: usize) {
        if self.len == 0 {
            return;
        }
        let present = self
            .current
            .iter()
            .rev()
            .flat_map(|run| run.text.chars().rev())
            .take_while(|c| *c == '\n')
            .take(count)
            .count();
        let styles = self.context();
        for _ in present..count {
            self.push("\n", &styles);
        }
    }

    /// A nested block starts: on a new line (after a blank one if `blank`), indented under its
    /// list item if `indent`. The first block of a list item instead continues the marker's line.
    fn block_start(&mut self, blank: bool, indent: bool) {
        if self.marker.is_some() || self.fresh_at == Some(self.len) {
            return;
        }
        let was_empty = self.len == 0;
        self.ensure_newlines(if blank { 2 } else { 1 });
        if indent && !was_empty && !self.lists.is_empty() {
            let styles = self.context();
            self.push(&"  ".repeat(self.lists.len()), &styles);
        }
        self.fresh_at = Some(self.len);
    }

    /// A code block or table starts: always on its own line, never indented (the indent would
    /// sit outside the code block and shift only its first line).
    fn preformatted_start(&mut self) {
        if self.marker.is_some() {
            self.flush_marker();
            self.ensure_newlines(1);
        } else {
            // In a list item a code block follows its text directly, as an item's lines do.
            self.block_start(self.lists.is_empty(), false);
        }
    }

    fn finish_block(&mut self) {
        let mut block = std::mem::take(&mut self.current);
        self.len = 0;
        self.fresh_at = None;
        trim_end(&mut block);
        if !is_blank(&block) {
            self.blocks.push(block);
        }
        self.marker = None;
        self.inline.clear();
        self.links.clear();
        self.lists.clear();
        self.quotes = 0;
        self.code = None;
        self.table = None;
    }
}

/// The language of a fenced block: the leading `[A-Za-z0-9_+-]` characters of the info string's
/// first word, or none (so it is safe in an HTML attribute and on a fence line).
fn sanitize_language(info: &str) -> Option<String> {
    let lang: String = info
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-'))
        .collect();
    (!lang.is_empty()).then_some(lang)
}

/// Lays a table out as monospace text: columns padded to their widest cell, a rule under the
/// header. Widths count chars, which is exact for most scripts and close enough for wide ones.
fn layout_table(table: &Table) -> String {
    let rows: Vec<Vec<&str>> = table
        .rows
        .iter()
        .map(|row| row.iter().map(|cell| cell.trim()).collect())
        .collect();
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|column| {
            rows.iter()
                .filter_map(|row| row.get(column))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
                .max(1)
        })
        .collect();
    let mut lines = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let cells: Vec<String> = widths
            .iter()
            .enumerate()
            .map(|(column, width)| {
                let cell = row.get(column).copied().unwrap_or("");
                let align = table.aligns.get(column).unwrap_or(&Alignment::None);
                pad(cell, *width, align)
            })
            .collect();
        lines.push(cells.join(" | ").trim_end().to_owned());
        if index == 0 {
            let rule: Vec<String> = widths.iter().map(|width| "-".repeat(*width)).collect();
            lines.push(rule.join("-+-"));
        }
    }
    lines.join("\n")
}

fn pad(cell: &str, width: usize, align: &Alignment) -> String {
    let space = width.saturating_sub(cell.chars().count());
    let (left, right) = match align {
        Alignment::Right => (space, 0),
        Alignment::Center => (space / 2, space - space / 2),
        Alignment::Left | Alignment::None => (0, space),
    };
    format!("{}{cell}{}", " ".repeat(left), " ".repeat(right))
}
