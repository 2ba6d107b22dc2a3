//! Splitting Markdown itself, for platforms that render it (GitHub): the text stays Markdown,
//! cut into pieces of at most `limit` characters on top-level block boundaries — between
//! paragraphs, lists, code blocks — so no piece breaks a construct in half. A block longer than
//! the limit is cut at line boundaries (a fenced code block is closed and reopened around the
//! cut), and a line longer than the limit at a character boundary.

use pulldown_cmark::{Event, Options, Parser, Tag};

/// `code` as a fenced code block in `language`, its fence longer than any run of backticks in
/// it, so nothing inside can close the block.
pub fn fenced(code: &str, language: &str) -> String {
    let longest = code.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    format!(
        "{fence}{language}\n{}\n{fence}",
        code.trim_end_matches('\n')
    )
}

/// Cuts `markdown` into pieces of at most `limit` characters (`limit` ≥ 20), losing nothing:
/// every character of the source is in a piece, in order (a cut fence adds its lines).
pub fn split(markdown: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(20);
    if markdown.chars().count() <= limit {
        return vec![markdown.to_owned()];
    }
    let mut pieces = Vec::new();
    let mut current = String::new();
    for block in blocks(markdown) {
        for chunk in fit_block(block, limit) {
            let joined = current.chars().count() + 2 + chunk.chars().count();
            if !current.is_empty() && joined > limit {
                pieces.push(std::mem::take(&mut current));
            }
            if !current.is_empty() {
                current.push_str("\n\n");
            }
            current.push_str(&chunk);
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// The top-level blocks of a document, as source slices (trailing newlines trimmed). What the
/// parser reports no event for (link reference definitions, say) is a block of its own, so
/// nothing between the blocks is lost.
fn blocks(markdown: &str) -> Vec<&str> {
    let mut ranges = Vec::new();
    let mut depth = 0usize;
    let mut start = None;
    for (event, range) in Parser::new_ext(markdown, Options::all()).into_offset_iter() {
        match event {
            Event::Start(_) => {
                if depth == 0 {
                    start = Some(range.start);
                }
                depth += 1;
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 0
                    && let Some(s) = start.take()
                {
                    ranges.push(s..range.end);
                }
            }
            _ if depth == 0 => ranges.push(range),
            _ => {}
        }
    }
    let mut out = Vec::new();
    let mut covered = 0;
    for range in ranges {
        if range.start < covered {
            continue;
        }
        out.push(&markdown[covered..range.start]);
        out.push(&markdown[range.clone()]);
        covered = range.end;
    }
    out.push(&markdown[covered..]);
    out.into_iter()
        .map(|block| block.trim_matches(['\n', '\r']))
        .filter(|block| !block.trim().is_empty())
        .collect()
}

/// A block as pieces of at most `limit` characters. A fenced code block is cut between lines,
/// each piece closed and reopened with its fence — unless the fence's own lines would take
/// more than half the room, when it is cut as plain lines like any other block.
fn fit_block(block: &str, limit: usize) -> Vec<String> {
    if block.chars().count() <= limit {
        return vec![block.to_owned()];
    }
    let fence = fence_of(block)
        .filter(|(open, close, _)| open.chars().count() + close.chars().count() + 2 <= limit / 2);
    let (budget, body) = match &fence {
        Some((open, close, body)) => (
            limit - open.chars().count() - close.chars().count() - 2,
            *body,
        ),
        None => (limit, block),
    };
    let mut pieces = Vec::new();
    let mut current = String::new();
    for line in body.split('\n') {
        for part in hard_cut(line, budget) {
            if !current.is_empty() && current.chars().count() + 1 + part.chars().count() > budget {
                pieces.push(std::mem::take(&mut current));
            }
            if !current.is_empty() {
                current.push('\n');
            }
            current.push_str(&part);
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    match fence {
        Some((open, close, _)) => pieces
            .into_iter()
            .map(|p| format!("{open}\n{p}\n{close}"))
            .collect(),
        None => pieces,
    }
}

/// The opening line, closing line and body (the lines between) of a fenced code block. An
/// unclosed fence runs to the end of the block and is closed with its opening marker.
fn fence_of(block: &str) -> Option<(String, String, &str)> {
    let mut events = Parser::new_ext(block, Options::all());
    let Some(Event::Start(Tag::CodeBlock(pulldown_cmark::CodeBlockKind::Fenced(_)))) =
        events.next()
    else {
        return None;
    };
    let (open, rest) = block.split_once('\n').unwrap_or((block, ""));
    let open = open.trim_end().to_owned();
    let marker: String = open
        .trim_start()
        .chars()
        .take_while(|c| *c == '`' || *c == '~')
        .collect();
    let rest = rest.trim_end();
    let (body, close) = match rest.rsplit_once('\n') {
        Some((body, last)) if is_closing(last, &marker) => (body, last.trim()),
        None if is_closing(rest, &marker) => ("", rest.trim()),
        _ => (rest, marker.as_str()),
    };
    Some((open, close.to_owned(), body))
}

/// Whether `line` closes a fence opened with `marker`: the same character, at least as many.
fn is_closing(line: &str, marker: &str) -> bool {
    let line = line.trim();
    let Some(c) = marker.chars().next() else {
        return false;
    };
    line.chars().all(|x| x == c) && line.len() >= marker.len()
}

/// A line cut into pieces of at most `limit` characters.
fn hard_cut(line: &str, limit: usize) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= limit {
        return vec![line.to_owned()];
    }
    chars.chunks(limit).map(|c| c.iter().collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_outlast_the_backticks_inside() {
        assert_eq!(fenced("a\n", "diff"), "```diff\na\n```");
        assert_eq!(fenced("x ```` y", ""), "`````\nx ```` y\n`````");
    }

    #[test]
    fn short_text_is_one_piece() {
        assert_eq!(split("hello *world*", 100), vec!["hello *world*"]);
    }

    #[test]
    fn pieces_respect_the_limit_and_keep_blocks_whole() {
        let paragraph = "word ".repeat(30).trim_end().to_owned();
        let text = [paragraph.as_str(); 10].join("\n\n");
        let pieces = split(&text, 400);
        assert!(pieces.len() > 1);
        for piece in &pieces {
            assert!(piece.chars().count() <= 400, "{}", piece.len());
            assert!(
                piece.split("\n\n").all(|p| p == paragraph),
                "a paragraph was cut"
            );
        }
        assert_eq!(pieces.join("\n\n"), text);
    }

    #[test]
    fn long_code_blocks_are_closed_and_reopened() {
        let code: Vec<String> = (0..200).map(|i| format!("let x{i} = {i};")).collect();
        let text = format!("Intro.\n\n```rust\n{}\n```\n\nOutro.", code.join("\n"));
        let pieces = split(&text, 500);
        let mut rebuilt = Vec::new();
        for piece in &pieces {
            assert!(piece.chars().count() <= 500);
            assert_eq!(
                piece.matches("```").count() % 2,
                0,
                "unbalanced fence in {piece}"
            );
            for line in piece.lines() {
                if line.starts_with("let x") {
                    rebuilt.push(line.to_owned());
                }
            }
        }
        assert_eq!(rebuilt, code, "every code line, once, in order");
        assert!(pieces[0].starts_with("Intro."));
        assert!(pieces.last().unwrap().ends_with("Outro."));
    }

    #[test]
    fn a_huge_line_is_cut_at_characters() {
        let text = "é".repeat(1000);
        let pieces = split(&text, 300);
        assert!(pieces.iter().all(|p| p.chars().count() <= 300));
        assert_eq!(pieces.concat(), text);
    }
}
