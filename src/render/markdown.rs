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

/// Cuts `markdown` into pieces of at most `limit` characters (`limit` ≥ 20).
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

/// The top-level blocks of a document, as source slices (trailing newlines trimmed).
fn blocks(markdown: &str) -> Vec<&str> {
    let mut depth = 0usize;
    let mut out = Vec::new();
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
                    out.push(markdown[s..range.end].trim_end_matches(['\n', '\r']));
                }
            }
            Event::Rule | Event::Html(_) | Event::Text(_) if depth == 0 => {
                out.push(markdown[range].trim_end_matches(['\n', '\r']));
            }
            _ => {}
        }
    }
    out
}

/// A block as pieces of at most `limit` characters.
fn fit_block(block: &str, limit: usize) -> Vec<String> {
    if block.chars().count() <= limit {
        return vec![block.to_owned()];
    }
    let fence = fence_of(block);
    let budget = match &fence {
        Some((open, close)) => {
            limit.saturating_sub(open.chars().count() + close.chars().count() + 2)
        }
        None => limit,
    }
    .max(10);
    let body = match &fence {
        Some((open, close)) => block
            .strip_prefix(open.as_str())
            .and_then(|b| b.trim_end().strip_suffix(close.as_str()))
            .unwrap_or(block)
            .trim_matches('\n'),
        None => block,
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
        Some((open, close)) => pieces
            .into_iter()
            .map(|p| format!("{open}\n{p}\n{close}"))
            .collect(),
        None => pieces,
    }
}

/// The opening line and closing fence of a fenced code block.
fn fence_of(block: &str) -> Option<(String, String)> {
    let mut events = Parser::new_ext(block, Options::all());
    let Some(Event::Start(Tag::CodeBlock(pulldown_cmark::CodeBlockKind::Fenced(_)))) =
        events.next()
    else {
        return None;
    };
    let open = block.lines().next()?.trim_end().to_owned();
    let marker: String = open
        .trim_start()
        .chars()
        .take_while(|c| *c == '`' || *c == '~')
        .collect();
    Some((open, marker))
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
