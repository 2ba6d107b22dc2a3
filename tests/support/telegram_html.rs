//! A strict, independent checker of Telegram's HTML parse mode.
//!
//! Why it exists: the project renders Markdown into Telegram HTML, and the only
//! way to know that output is right is to parse it the way Telegram does and
//! look at the visible text and the entities that come out. This module is
//! that parser. It is written from the Bot API documentation ("Formatting
//! options", "MessageEntity") and from the behaviour of tdlib's `parse_html`,
//! which is what the Bot API server runs; it shares no code with the project's
//! renderer, so a renderer bug cannot hide in both places.
//!
//! Faithful to tdlib:
//! * the tag set, case-insensitive start tag names, attribute syntax (quoted
//!   values with entities decoded, unquoted name tokens lower-cased), `</>`
//!   closing the innermost tag;
//! * the error texts and byte offsets (`Unsupported start tag "foo" at byte
//!   offset 12`, `Unexpected end tag at byte offset N`, `Unmatched end tag …`,
//!   `Can't find end tag corresponding to start tag "b"`, `Unclosed start tag
//!   at byte offset N`, `Tag "span" must have class "tg-spoiler" …`);
//! * entity offsets and lengths in UTF-16 code units, empty entities dropped,
//!   `<pre><code class="language-x">` folded into one `pre` entity with a
//!   language, `<a>` without `href` linking to its own text, `tg://` links,
//!   scheme-less links getting `http://`.
//!
//! Deliberately stricter than tdlib (these messages are the fake's own, worded
//! like Telegram's). tdlib quietly tolerates things whose result is rarely what
//! the author meant; a renderer that relies on that tolerance is buggy, so the
//! checker rejects them:
//! * a bare `&` that does not start `&lt;` `&gt;` `&amp;` `&quot;` `&#NNN;` or
//!   `&#xHH;` (tdlib shows it literally, and also accepts a missing `;`; both
//!   mean the renderer forgot to escape, which breaks on the next `&lt;`);
//! * attributes the tag does not support (tdlib ignores them: `<a hef=…>`
//!   would silently link to its own text), `class` on `code` other than
//!   `language-…`, a language on `code` outside `pre`;
//! * links tdlib would drop (relative, `javascript:`, `mailto:` …);
//! * nesting the Bot API documents as not allowed, where tdlib silently drops
//!   formatting: anything inside `code`/`pre`/`tg-emoji` (except the
//!   `pre > code` language form, which must then span the whole block),
//!   `blockquote` inside `blockquote`, and inside `a` anything but `b i u s`
//!   and spoilers.
//!
//! A bare `>` is accepted, as it is by Telegram: it is unambiguous.
//!
//! Not modelled: the whitespace trimming Telegram applies to a whole message
//! (the fake server does that on top of [`parse`]), `tg://user?id=` links
//! turning into `text_mention` (reported as `text_link`), custom emoji content
//! validation.

use std::fmt;

/// The result of parsing: what the user sees and how it is formatted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parsed {
    /// The visible text, with tags removed and HTML entities decoded.
    pub text: String,
    /// Formatting entities, sorted by offset (outer before inner).
    pub entities: Vec<Entity>,
}

impl Parsed {
    /// The visible text one entity covers.
    pub fn entity_text(&self, entity: &Entity) -> String {
        utf16_slice(&self.text, entity.offset_utf16, entity.length_utf16)
    }
}

/// One Telegram `MessageEntity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    pub kind: EntityKind,
    pub offset_utf16: usize,
    pub length_utf16: usize,
    /// For [`EntityKind::TextLink`].
    pub url: Option<String>,
    /// For [`EntityKind::Pre`], from `<pre><code class="language-…">`.
    pub language: Option<String>,
    /// For [`EntityKind::CustomEmoji`].
    pub custom_emoji_id: Option<String>,
}

impl Entity {
    pub fn new(kind: EntityKind, offset_utf16: usize, length_utf16: usize) -> Self {
        Self {
            kind,
            offset_utf16,
            length_utf16,
            url: None,
            language: None,
            custom_emoji_id: None,
        }
    }
}

/// The `type` of a `MessageEntity`. The formatting kinds come from HTML; the
/// last two are what clients detect in plain text typed by users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    Bold,
    Italic,
    Underline,
    Strikethrough,
    Spoiler,
    Code,
    Pre,
    TextLink,
    CustomEmoji,
    Blockquote,
    ExpandableBlockquote,
    Mention,
    BotCommand,
}

impl EntityKind {
    /// The Bot API name (`"bold"`, `"text_link"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bold => "bold",
            Self::Italic => "italic",
            Self::Underline => "underline",
            Self::Strikethrough => "strikethrough",
            Self::Spoiler => "spoiler",
            Self::Code => "code",
            Self::Pre => "pre",
            Self::TextLink => "text_link",
            Self::CustomEmoji => "custom_emoji",
            Self::Blockquote => "blockquote",
            Self::ExpandableBlockquote => "expandable_blockquote",
            Self::Mention => "mention",
            Self::BotCommand => "bot_command",
        }
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Length of `s` in UTF-16 code units, the unit of every Telegram offset.
pub fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// The part of `text` at `offset..offset + length` in UTF-16 code units.
pub fn utf16_slice(text: &str, offset: usize, length: usize) -> String {
    let mut at = 0;
    let mut out = String::new();
    for c in text.chars() {
        if at >= offset && at < offset + length {
            out.push(c);
        }
        at += c.len_utf16();
    }
    out
}

/// Parses `html` like Telegram's `parse_mode: "HTML"`. The error is the part
/// Telegram puts after `Bad Request: can't parse entities: `.
pub fn parse(html: &str) -> Result<Parsed, String> {
    Parser::new(html).run()
}

const FORMATTING_TAGS: &[&str] = &[
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
];
const OTHER_TAGS: &[&str] = &["a", "code", "pre", "blockquote", "tg-emoji"];

/// A start tag whose end tag has not been seen yet.
struct Open {
    name: String,
    byte_offset: usize,
    start_utf16: usize,
    start_text: usize,
    /// Order of appearance, so entities covering the same span sort outer first.
    seq: usize,
    /// `href`, the code language, or the custom emoji id.
    argument: Option<String>,
    expandable: bool,
    /// For `pre`: the language and end of a `code` child, once it closed.
    code_child: Option<(Option<String>, usize)>,
}

struct Parser<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    text: String,
    utf16: usize,
    open: Vec<Open>,
    entities: Vec<(usize, Entity)>,
    seq: usize,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0b' | b'\x0c')
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Self {
        Self {
            src,
            bytes: src.as_bytes(),
            pos: 0,
            text: String::new(),
            utf16: 0,
            open: Vec::new(),
            entities: Vec::new(),
            seq: 0,
        }
    }

    fn run(mut self) -> Result<Parsed, String> {
        while self.pos < self.bytes.len() {
            match self.bytes[self.pos] {
                b'&' => {
                    let (c, next) = decode_entity(self.src, self.pos)?;
                    self.push(c);
                    self.pos = next;
                }
                b'<' if self.bytes.get(self.pos + 1) == Some(&b'/') => self.end_tag()?,
                b'<' => self.start_tag()?,
                _ => {
                    let c = self.src[self.pos..].chars().next().expect("in bounds");
                    self.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
        if let Some(open) = self.open.last() {
            return Err(format!(
                "Can't find end tag corresponding to start tag \"{}\"",
                open.name
            ));
        }
        let mut entities = self.entities;
        entities.sort_by_key(|(seq, e)| (e.offset_utf16, std::cmp::Reverse(e.length_utf16), *seq));
        Ok(Parsed {
            text: self.text,
            entities: entities.into_iter().map(|(_, e)| e).collect(),
        })
    }

    fn push(&mut self, c: char) {
        self.text.push(c);
        self.utf16 += c.len_utf16();
    }

    fn skip_spaces(&mut self) {
        while self.pos < self.bytes.len() && is_space(self.bytes[self.pos]) {
            self.pos += 1;
        }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn start_tag(&mut self) -> Result<(), String> {
        let begin = self.pos;
        self.pos += 1;
        let name_start = self.pos;
        while !self.at_end() && !is_space(self.bytes[self.pos]) && self.bytes[self.pos] != b'>' {
            self.pos += 1;
        }
        if self.at_end() {
            return Err(format!("Unclosed start tag at byte offset {begin}"));
        }
        let name = self.src[name_start..self.pos].to_ascii_lowercase();
        if !FORMATTING_TAGS.contains(&name.as_str()) && !OTHER_TAGS.contains(&name.as_str()) {
            return Err(format!(
                "Unsupported start tag \"{name}\" at byte offset {begin}"
            ));
        }
        let attributes = self.attributes(&name, begin)?;
        let mut open = Open {
            name,
            byte_offset: begin,
            start_utf16: self.utf16,
            start_text: self.text.len(),
            seq: self.seq,
            argument: None,
            expandable: false,
            code_child: None,
        };
        self.seq += 1;
        self.apply_attributes(&mut open, attributes)?;
        self.check_nesting(&open)?;
        self.open.push(open);
        Ok(())
    }

    /// Reads attributes up to and including the closing `>`.
    fn attributes(
        &mut self,
        tag: &str,
        begin: usize,
    ) -> Result<Vec<(String, Option<String>)>, String> {
        let unclosed = || format!("Unclosed start tag at byte offset {begin}");
        let mut attributes = Vec::new();
        loop {
            self.skip_spaces();
            if self.at_end() {
                return Err(unclosed());
            }
            if self.bytes[self.pos] == b'>' {
                self.pos += 1;
                return Ok(attributes);
            }
            let name_start = self.pos;
            while !self.at_end()
                && !is_space(self.bytes[self.pos])
                && !matches!(self.bytes[self.pos], b'=' | b'>')
            {
                self.pos += 1;
            }
            let name = self.src[name_start..self.pos].to_string();
            if name.is_empty() {
                return Err(format!(
                    "Empty attribute name in the tag \"{tag}\" at byte offset {begin}"
                ));
            }
            self.skip_spaces();
            if self.at_end() {
                return Err(unclosed());
            }
            if self.bytes[self.pos] != b'=' {
                if tag == "blockquote" && name == "expandable" {
                    attributes.push((name, None));
                    continue;
                }
                return Err(format!(
                    "Expected equal sign in declaration of an attribute of the tag \"{tag}\" at byte offset {begin}"
                ));
            }
            self.pos += 1;
            self.skip_spaces();
            if self.at_end() {
                return Err(format!(
                    "Unclosed start tag \"{tag}\" at byte offset {begin}"
                ));
            }
            let quote = self.bytes[self.pos];
            let value = if quote == b'"' || quote == b'\'' {
                self.pos += 1;
                let mut value = String::new();
                while !self.at_end() && self.bytes[self.pos] != quote {
                    if self.bytes[self.pos] == b'&' {
                        let (c, next) = decode_entity(self.src, self.pos)?;
                        value.push(c);
                        self.pos = next;
                    } else {
                        let c = self.src[self.pos..].chars().next().expect("in bounds");
                        value.push(c);
                        self.pos += c.len_utf8();
                    }
                }
                if self.at_end() {
                    return Err(unclosed());
                }
                self.pos += 1;
                value
            } else {
                // An unquoted value is an SGML name token, compared case-insensitively.
                let token_start = self.pos;
                while !self.at_end()
                    && (self.bytes[self.pos].is_ascii_alphanumeric()
                        || matches!(self.bytes[self.pos], b'.' | b'-'))
                {
                    self.pos += 1;
                }
                if self.at_end() {
                    return Err(unclosed());
                }
                if !is_space(self.bytes[self.pos]) && self.bytes[self.pos] != b'>' {
                    return Err(format!(
                        "Unexpected end of name token at byte offset {token_start}"
                    ));
                }
                self.src[token_start..self.pos].to_ascii_lowercase()
            };
            attributes.push((name, Some(value)));
        }
    }

    fn apply_attributes(
        &self,
        open: &mut Open,
        attributes: Vec<(String, Option<String>)>,
    ) -> Result<(), String> {
        let tag = open.name.clone();
        let begin = open.byte_offset;
        let mut span_class = None;
        for (name, value) in attributes {
            let value = value.unwrap_or_default();
            match (tag.as_str(), name.as_str()) {
                ("a", "href") => open.argument = Some(value),
                ("code", "class") => match value.strip_prefix("language-") {
                    Some(language) if !language.is_empty() => {
                        open.argument = Some(language.to_string())
                    }
                    _ => {
                        return Err(format!(
                            "Tag \"code\" supports only class=\"language-…\", found \"{value}\" at byte offset {begin}"
                        ));
                    }
                },
                ("span", "class") => span_class = Some(value),
                ("tg-emoji", "emoji-id") => open.argument = Some(value),
                ("blockquote", "expandable") => open.expandable = true,
                _ => {
                    return Err(format!(
                        "Unsupported attribute \"{name}\" in the tag \"{tag}\" at byte offset {begin}"
                    ));
                }
            }
        }
        if tag == "span" && span_class.as_deref() != Some("tg-spoiler") {
            return Err(format!(
                "Tag \"span\" must have class \"tg-spoiler\" at byte offset {begin}"
            ));
        }
        if tag == "tg-emoji" {
            let valid = open
                .argument
                .as_deref()
                .and_then(|id| id.parse::<i64>().ok())
                .is_some_and(|id| id != 0);
            if !valid {
                return Err("Invalid custom emoji identifier specified".to_string());
            }
        }
        Ok(())
    }

    /// The Bot API's nesting rules, which tdlib enforces by dropping entities.
    fn check_nesting(&self, new: &Open) -> Result<(), String> {
        let begin = new.byte_offset;
        let nested = |parent: &str| {
            format!(
                "Tag \"{}\" can't be nested inside \"{parent}\" at byte offset {begin}",
                new.name
            )
        };
        if let Some(parent) = self.open.last()
            && parent.name == "pre"
            && new.name == "code"
        {
            if parent.start_utf16 != self.utf16 || parent.code_child.is_some() {
                return Err(format!(
                    "Tag \"code\" inside \"pre\" must span the whole block at byte offset {begin}"
                ));
            }
            return Ok(());
        }
        if new.name == "code" && new.argument.is_some() {
            return Err(format!(
                "A language can be given only to \"code\" directly inside \"pre\" at byte offset {begin}"
            ));
        }
        for parent in &self.open {
            let allowed = match parent.name.as_str() {
                "code" | "pre" | "tg-emoji" => false,
                "a" => FORMATTING_TAGS.contains(&new.name.as_str()),
                "blockquote" => new.name != "blockquote",
                _ => true,
            };
            if !allowed {
                return Err(nested(&parent.name));
            }
        }
        Ok(())
    }

    fn end_tag(&mut self) -> Result<(), String> {
        let begin = self.pos;
        if self.open.is_empty() {
            return Err(format!("Unexpected end tag at byte offset {begin}"));
        }
        self.pos += 2;
        let name_start = self.pos;
        while !self.at_end() && !is_space(self.bytes[self.pos]) && self.bytes[self.pos] != b'>' {
            self.pos += 1;
        }
        let end_name = &self.src[name_start..self.pos];
        self.skip_spaces();
        if self.at_end() || self.bytes[self.pos] != b'>' {
            return Err(format!("Unclosed end tag at byte offset {begin}"));
        }
        self.pos += 1;
        let open = self.open.pop().expect("checked non-empty");
        if !end_name.is_empty() && end_name != open.name {
            return Err(format!(
                "Unmatched end tag at byte offset {begin}, expected \"</{}>\", found \"</{end_name}>\"",
                open.name
            ));
        }
        self.close(open, begin)
    }

    fn close(&mut self, open: Open, begin: usize) -> Result<(), String> {
        if open.name == "code"
            && let Some(parent) = self.open.last_mut()
            && parent.name == "pre"
        {
            parent.code_child = Some((open.argument, self.utf16));
            return Ok(());
        }
        if open.name == "pre"
            && let Some((_, code_end)) = &open.code_child
            && *code_end != self.utf16
        {
            return Err(format!(
                "Tag \"code\" inside \"pre\" must span the whole block at byte offset {begin}"
            ));
        }
        if self.utf16 == open.start_utf16 {
            return Ok(());
        }
        let offset = open.start_utf16;
        let length = self.utf16 - offset;
        let mut entity = Entity::new(EntityKind::Bold, offset, length);
        entity.kind = match open.name.as_str() {
            "b" | "strong" => EntityKind::Bold,
            "i" | "em" => EntityKind::Italic,
            "u" | "ins" => EntityKind::Underline,
            "s" | "strike" | "del" => EntityKind::Strikethrough,
            "span" | "tg-spoiler" => EntityKind::Spoiler,
            "code" => EntityKind::Code,
            "pre" => {
                entity.language = open.code_child.and_then(|(language, _)| language);
                EntityKind::Pre
            }
            "blockquote" if open.expandable => EntityKind::ExpandableBlockquote,
            "blockquote" => EntityKind::Blockquote,
            "tg-emoji" => {
                entity.custom_emoji_id = open.argument;
                EntityKind::CustomEmoji
            }
            "a" => {
                let href = match open.argument {
                    Some(href) if !href.is_empty() => href,
                    _ => self.text[open.start_text..].to_string(),
                };
                let Some(url) = normalize_url(&href) else {
                    return Err(format!(
                        "Unsupported URL \"{href}\" in the tag \"a\" at byte offset {}",
                        open.byte_offset
                    ));
                };
                entity.url = Some(url);
                EntityKind::TextLink
            }
            other => unreachable!("start tag {other} was accepted"),
        };
        self.entities.push((open.seq, entity));
        Ok(())
    }
}

/// Decodes the HTML entity starting at `pos` (which holds `&`), returning the
/// character and the position after the entity.
fn decode_entity(src: &str, pos: usize) -> Result<(char, usize), String> {
    let bytes = src.as_bytes();
    let bad = || {
        format!(
            "Unescaped \"&\" at byte offset {pos}: write &amp; or a valid entity (&lt; &gt; &amp; &quot; &#NNN; &#xHH;)"
        )
    };
    let mut end = pos + 1;
    let code = if bytes.get(end) == Some(&b'#') {
        end += 1;
        let hex = bytes.get(end) == Some(&b'x');
        if hex {
            end += 1;
        }
        let digits_start = end;
        while bytes.get(end).is_some_and(|b| {
            if hex {
                b.is_ascii_hexdigit()
            } else {
                b.is_ascii_digit()
            }
        }) {
            end += 1;
        }
        let digits = &src[digits_start..end];
        if digits.is_empty() || digits.len() > 8 {
            return Err(bad());
        }
        let value = u32::from_str_radix(digits, if hex { 16 } else { 10 }).map_err(|_| bad())?;
        // tdlib refuses NUL, surrogates and anything from U+10FFFF up.
        if value == 0 || value >= 0x10ffff {
            return Err(bad());
        }
        char::from_u32(value).ok_or_else(bad)?
    } else {
        while bytes.get(end).is_some_and(u8::is_ascii_alphabetic) {
            end += 1;
        }
        match &src[pos + 1..end] {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            _ => return Err(bad()),
        }
    };
    if bytes.get(end) != Some(&b';') {
        return Err(bad());
    }
    Ok((code, end + 1))
}

/// What tdlib's link check accepts, normalized the way the Bot API reports it.
fn normalize_url(href: &str) -> Option<String> {
    let href = href.trim();
    if href.is_empty() || href.chars().any(char::is_whitespace) {
        return None;
    }
    let lower = href.to_ascii_lowercase();
    if lower.starts_with("tg://") {
        return Some(href.to_string());
    }
    let (scheme, rest) = if let Some(rest) = lower.strip_prefix("http://") {
        ("http://", &href[href.len() - rest.len()..])
    } else if let Some(rest) = lower.strip_prefix("https://") {
        ("https://", &href[href.len() - rest.len()..])
    } else if !href.contains("://") && !href.contains(':') && !href.starts_with('/') {
        ("http://", href)
    } else {
        return None;
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..host_end];
    let host_name = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host_name = host_name.split(':').next().unwrap_or_default();
    if !host_name.contains('.') && host_name != "localhost" {
        return None;
    }
    let mut url = format!("{scheme}{host}");
    if !rest[host_end..].starts_with('/') {
        url.push('/');
    }
    url.push_str(&rest[host_end..]);
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(html: &str) -> Parsed {
        parse(html).unwrap_or_else(|e| panic!("{html:?} should parse, got {e}"))
    }

    fn err(html: &str) -> String {
        match parse(html) {
            Ok(p) => panic!("{html:?} should fail, parsed to {p:?}"),
            Err(e) => e,
        }
    }

    fn kinds(p: &Parsed) -> Vec<(EntityKind, usize, usize)> {
        p.entities
            .iter()
            .map(|e| (e.kind, e.offset_utf16, e.length_utf16))
            .collect()
    }

    #[test]
    fn plain_text_passes_through() {
        let p = ok("hello > world");
        assert_eq!(p.text, "hello > world");
        assert!(p.entities.is_empty());
    }

    #[test]
    fn every_formatting_tag_and_its_alias() {
        use EntityKind::*;
        let cases = [
            ("b", Bold),
            ("strong", Bold),
            ("i", Italic),
            ("em", Italic),
            ("u", Underline),
            ("ins", Underline),
            ("s", Strikethrough),
            ("strike", Strikethrough),
            ("del", Strikethrough),
            ("tg-spoiler", Spoiler),
            ("code", Code),
            ("pre", Pre),
            ("blockquote", Blockquote),
        ];
        for (tag, kind) in cases {
            let p = ok(&format!("x<{tag}>yz</{tag}>"));
            assert_eq!(p.text, "xyz", "{tag}");
            assert_eq!(kinds(&p), vec![(kind, 1, 2)], "{tag}");
        }
        let p = ok(r#"<span class="tg-spoiler">hidden</span>"#);
        assert_eq!(kinds(&p), vec![(Spoiler, 0, 6)]);
        let p = ok("<blockquote expandable>long</blockquote>");
        assert_eq!(kinds(&p), vec![(ExpandableBlockquote, 0, 4)]);
        let p = ok(r#"<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>"#);
        assert_eq!(kinds(&p), vec![(CustomEmoji, 0, 2)]);
        assert_eq!(
            p.entities[0].custom_emoji_id.as_deref(),
            Some("5368324170671202286")
        );
    }

    #[test]
    fn valid_nesting_sorts_outer_first() {
        let p = ok("<b>bold <i>both</i></b> <u><s>us</s></u>");
        assert_eq!(p.text, "bold both us");
        assert_eq!(
            kinds(&p),
            vec![
                (EntityKind::Bold, 0, 9),
                (EntityKind::Italic, 5, 4),
                (EntityKind::Underline, 10, 2),
                (EntityKind::Strikethrough, 10, 2),
            ]
        );
        assert_eq!(p.entity_text(&p.entities[1]), "both");
        let p = ok(
            r#"<blockquote><b>q</b> <a href="https://x.org/a?b=1&amp;c=2"><i>l</i></a> <code>c</code></blockquote>"#,
        );
        assert_eq!(p.text, "q l c");
        assert_eq!(p.entities[0].kind, EntityKind::Blockquote);
        let link = p
            .entities
            .iter()
            .find(|e| e.kind == EntityKind::TextLink)
            .unwrap();
        assert_eq!(link.url.as_deref(), Some("https://x.org/a?b=1&c=2"));
    }

    #[test]
    fn tag_names_are_case_insensitive_but_end_tags_must_match_exactly() {
        assert_eq!(kinds(&ok("<B>x</b>")), vec![(EntityKind::Bold, 0, 1)]);
        assert_eq!(
            err("<B>x</B>"),
            "Unmatched end tag at byte offset 4, expected \"</b>\", found \"</B>\""
        );
        assert_eq!(kinds(&ok("<i>x</>")), vec![(EntityKind::Italic, 0, 1)]);
    }

    #[test]
    fn improper_nesting_is_rejected() {
        assert_eq!(
            err("<b><i>x</b></i>"),
            "Unmatched end tag at byte offset 7, expected \"</i>\", found \"</b>\""
        );
        assert_eq!(
            err("a <b>bold"),
            "Can't find end tag corresponding to start tag \"b\""
        );
        assert_eq!(err("x</b>"), "Unexpected end tag at byte offset 1");
        assert_eq!(err("<b>x</b"), "Unclosed end tag at byte offset 4");
        assert!(
            err("<code><b>x</b></code>").starts_with("Tag \"b\" can't be nested inside \"code\"")
        );
        assert!(err("<pre><i>x</i></pre>").starts_with("Tag \"i\" can't be nested inside \"pre\""));
        assert!(
            err("<blockquote><blockquote>x</blockquote></blockquote>")
                .starts_with("Tag \"blockquote\" can't be nested inside \"blockquote\"")
        );
        assert!(
            err(r#"<a href="https://a.io"><a href="https://b.io">x</a></a>"#)
                .starts_with("Tag \"a\" can't be nested inside \"a\"")
        );
        assert!(err(r#"<a href="https://a.io"><code>x</code></a>"#).contains("inside \"a\""));
    }

    #[test]
    fn unsupported_tags_and_bare_angle_brackets() {
        assert_eq!(
            err("hello world <foo>x</foo>"),
            "Unsupported start tag \"foo\" at byte offset 12"
        );
        assert_eq!(err("1 < 2"), "Unsupported start tag \"\" at byte offset 2");
        assert_eq!(
            err("<br/>"),
            "Unsupported start tag \"br/\" at byte offset 0"
        );
        assert_eq!(
            err("<p>x</p>"),
            "Unsupported start tag \"p\" at byte offset 0"
        );
        assert_eq!(err("x <b"), "Unclosed start tag at byte offset 2");
        assert_eq!(
            err("<span>x</span>"),
            "Tag \"span\" must have class \"tg-spoiler\" at byte offset 0"
        );
        assert_eq!(
            err(r#"<span class="tg-other">x</span>"#),
            "Tag \"span\" must have class \"tg-spoiler\" at byte offset 0"
        );
    }

    #[test]
    fn attributes_are_checked() {
        assert!(err(r#"<a hef="https://x.io">x</a>"#).starts_with("Unsupported attribute \"hef\""));
        assert!(
            err(r#"<b class="x">y</b>"#)
                .starts_with("Unsupported attribute \"class\" in the tag \"b\"")
        );
        assert!(err("<b bold>y</b>").starts_with("Expected equal sign"));
        assert_eq!(
            err("<tg-emoji emoji-id=\"abc\">x</tg-emoji>"),
            "Invalid custom emoji identifier specified"
        );
        assert!(err(r#"<a href="x>y</a>"#).starts_with("Unclosed start tag"));
        // Unquoted values are name tokens.
        let p = ok("<a href=example.com>x</a>");
        assert_eq!(p.entities[0].url.as_deref(), Some("http://example.com/"));
        assert!(
            err("<a href=a/b>x</a>").starts_with("Unexpected end of name token at byte offset 8")
        );
    }

    #[test]
    fn links() {
        let p = ok(r#"<a href='https://Example.com'>site</a>"#);
        assert_eq!(p.entities[0].url.as_deref(), Some("https://Example.com/"));
        let p = ok("<a>https://t.me/x</a>");
        assert_eq!(p.entities[0].url.as_deref(), Some("https://t.me/x"));
        let p = ok(r#"<a href="tg://user?id=42">u</a>"#);
        assert_eq!(p.entities[0].url.as_deref(), Some("tg://user?id=42"));
        for bad in ["/relative", "javascript:alert(1)", "mailto:a@b.c", "nodots"] {
            assert!(
                err(&format!(r#"<a href="{bad}">x</a>"#)).starts_with("Unsupported URL"),
                "{bad}"
            );
        }
    }

    #[test]
    fn entities_decode_and_bad_ones_fail() {
        let p = ok("&lt;b&gt; &amp; &quot;q&quot; &#65;&#x42;&#128512;");
        assert_eq!(p.text, "<b> & \"q\" AB😀");
        assert!(p.entities.is_empty());
        for bad in [
            "AT&T",
            "a & b",
            "&apos;",
            "&nbsp;",
            "&lt",
            "&#;",
            "&#x;",
            "&#0;",
            "&#xD800;",
            "&#x110000;",
            "&#X41;",
        ] {
            assert!(err(bad).starts_with("Unescaped \"&\""), "{bad}");
        }
        assert!(
            err(r#"<a href="https://x.io/?a=1&b=2">x</a>"#)
                .starts_with("Unescaped \"&\" at byte offset 26")
        );
    }

    #[test]
    fn pre_with_language() {
        let p = ok("<pre><code class=\"language-rust\">fn main() {}\n</code></pre>");
        assert_eq!(p.text, "fn main() {}\n");
        assert_eq!(kinds(&p), vec![(EntityKind::Pre, 0, 13)]);
        assert_eq!(p.entities[0].language.as_deref(), Some("rust"));
        let p = ok("<pre><code>plain</code></pre>");
        assert_eq!(kinds(&p), vec![(EntityKind::Pre, 0, 5)]);
        assert_eq!(p.entities[0].language, None);
        let p = ok("<pre>no code</pre>");
        assert_eq!(p.entities[0].language, None);
        assert!(
            err("<pre>x<code class=\"language-rust\">y</code></pre>")
                .contains("must span the whole block")
        );
        assert!(
            err("<pre><code class=\"language-rust\">y</code>z</pre>")
                .contains("must span the whole block")
        );
        assert!(
            err("<code class=\"language-rust\">y</code>")
                .starts_with("A language can be given only")
        );
        assert!(
            err("<pre><code class=\"rust\">y</code></pre>")
                .starts_with("Tag \"code\" supports only")
        );
    }

    #[test]
    fn offsets_are_utf16() {
        // 😀 is two UTF-16 units, é one, 中 one.
        let p = ok("😀 <b>é中😀</b> <i>x</i>");
        assert_eq!(p.text, "😀 é中😀 x");
        assert_eq!(
            kinds(&p),
            vec![(EntityKind::Bold, 3, 4), (EntityKind::Italic, 8, 1)]
        );
        assert_eq!(p.entity_text(&p.entities[0]), "é中😀");
        assert_eq!(utf16_len(&p.text), 9);
        // Byte offsets in errors count UTF-8 bytes, like tdlib's.
        assert_eq!(err("😀<x>"), "Unsupported start tag \"x\" at byte offset 4");
    }

    #[test]
    fn empty_entities_are_dropped() {
        let p = ok("a<b></b>c<i> </i>");
        assert_eq!(p.text, "ac ");
        assert_eq!(kinds(&p), vec![(EntityKind::Italic, 2, 1)]);
    }
}
