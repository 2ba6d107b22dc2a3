//! Just enough markdown for bot bodies: table rows, link labels, code spans,
//! and the prose that lies outside `<details>` blocks.
//!
//! Bodies quote release notes and commit lists inside `<details>`; those
//! mention other bumps ("Bump codecov/codecov-action from 3 to 4") and even
//! other tables, so the prose scanners only look at what lies outside them.

/// The lines of `text` that are not inside a `<details>` block (nested blocks
/// counted). An unbalanced `</details>` is ignored rather than trusted.
pub(super) fn outside_details(text: &str) -> Vec<&str> {
    let mut depth = 0usize;
    let mut out = Vec::new();
    for line in text.lines() {
        let lower = line.to_ascii_lowercase();
        let opens = lower.matches("<details").count();
        let closes = lower.matches("</details").count();
        let was_outside = depth == 0;
        depth = (depth + opens).saturating_sub(closes);
        if was_outside && opens == 0 && closes == 0 {
            out.push(line);
        }
    }
    out
}

/// The cells of a markdown table row, trimmed; `None` if the line is not one.
/// Escaped pipes (`\|`) and pipes inside code spans stay in their cell.
pub(super) fn table_cells(line: &str) -> Option<Vec<String>> {
    let line = line.trim();
    if !line.starts_with('|') {
        return None;
    }
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut in_code = false;
    let mut escaped = false;
    for c in line[1..].chars() {
        if escaped {
            cell.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                cell.push(c);
            }
            '`' => {
                in_code = !in_code;
                cell.push(c);
            }
            '|' if !in_code => cells.push(std::mem::take(&mut cell).trim().to_string()),
            _ => cell.push(c),
        }
    }
    if !cell.trim().is_empty() {
        cells.push(cell.trim().to_string());
    }
    Some(cells)
}

/// `|---|:--:|` and friends.
pub(super) fn is_separator_row(cells: &[String]) -> bool {
    !cells.is_empty()
        && cells.iter().all(|c| {
            let c = c.trim().trim_matches(':');
            !c.is_empty() && c.chars().all(|ch| ch == '-')
        })
}

/// The label of the markdown link that `text` starts with (`[label](url)`),
/// nesting-aware so `[![badge](img)](url)` yields `![badge](img)`; `None` if
/// `text` does not start with a link.
pub(super) fn leading_link_label(text: &str) -> Option<&str> {
    let text = text.trim_start();
    if !text.starts_with('[') {
        return None;
    }
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(&text[1..i]);
                }
            }
            _ => {}
        }
    }
    None
}

/// A package name out of a table cell or prose: the leading link's label if
/// any, else the text before a ` (` aside such as `([source](…))`; code
/// backticks, zero-width spaces and HTML-escaped ones removed.
pub(super) fn package_name(cell: &str) -> String {
    let cell = cell.trim();
    let text = match leading_link_label(cell) {
        Some(label) => label,
        None => cell.split(" (").next().unwrap_or(cell),
    };
    clean(text)
}

/// Removes code backticks, zero-width spaces (raw and `&#8203;`) and
/// surrounding whitespace.
pub(super) fn clean(text: &str) -> String {
    text.replace("&#8203;", "")
        .replace('\u{200b}', "")
        .trim()
        .trim_matches('`')
        .trim()
        .to_string()
}

/// Where `word` starts in `lower` at a word boundary (start, or after a
/// space, colon, bracket or parenthesis).
pub(super) fn word_at(lower: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = lower[from..].find(word) {
        let at = from + i;
        let boundary = lower[..at]
            .chars()
            .next_back()
            .is_none_or(|c| matches!(c, ' ' | ':' | ']' | ')' | '('));
        if boundary {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_blocks_are_skipped_even_nested() {
        let text = "a\n<details>\nb\n<details><summary>x</summary>\nc\n</details>\nd\n</details>\ne\n</details>\nf";
        assert_eq!(outside_details(text), vec!["a", "e", "f"]);
    }

    #[test]
    fn table_rows_split_on_unescaped_pipes() {
        assert_eq!(
            table_cells("| [a](u) | `1 | 2` | x \\| y |").unwrap(),
            vec!["[a](u)", "`1 | 2`", "x \\| y"]
        );
        assert_eq!(table_cells("not a row"), None);
        assert!(is_separator_row(&table_cells("|---|:--:| --- |").unwrap()));
        assert!(!is_separator_row(&table_cells("| a | --- |").unwrap()));
    }

    #[test]
    fn package_names_come_out_of_links_and_asides() {
        assert_eq!(
            package_name("[@typescript-eslint/parser](https://x) ([source](https://y))"),
            "@typescript-eslint/parser"
        );
        assert_eq!(
            package_name("golang.org/x/net ([source](https://y))"),
            "golang.org/x/net"
        );
        assert_eq!(package_name("`serde`"), "serde");
        assert_eq!(package_name("[![age](img)](url)"), "![age](img)");
        assert_eq!(package_name("[unclosed"), "[unclosed");
        assert_eq!(
            clean("@&#8203;cloudflare/workers-types"),
            "@cloudflare/workers-types"
        );
    }
}
