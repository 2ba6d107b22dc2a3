//! The entities Telegram attaches to text a person types: `bot_command` and
//! `mention`, found the way tdlib's `match_bot_commands`/`match_mentions` find
//! them. The bot's command parser reads these, so the fake must produce them
//! exactly where a real client would, with UTF-16 offsets.
//!
//! Not modelled: URLs, e-mails, hashtags, cashtags, phone numbers.

use crate::support::telegram_html::{Entity, EntityKind, utf16_len};

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn is_username_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `bot_command` and `mention` entities of `text`, sorted by offset.
pub(super) fn detect(text: &str) -> Vec<Entity> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut entities = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (byte, c) = chars[i];
        let prev = i.checked_sub(1).map(|p| chars[p].1);
        let found = match c {
            '/' if prev.is_none_or(|p| !is_word(p) && !matches!(p, '/' | '<' | '>')) => {
                command_end(&chars, i)
            }
            '@' if prev.is_none_or(|p| !is_word(p) && p != '`') => mention_end(&chars, i),
            _ => None,
        };
        match found {
            Some(end) => {
                let end_byte = chars.get(end).map_or(text.len(), |(b, _)| *b);
                let kind = if c == '/' {
                    EntityKind::BotCommand
                } else {
                    EntityKind::Mention
                };
                entities.push(Entity::new(
                    kind,
                    utf16_len(&text[..byte]),
                    utf16_len(&text[byte..end_byte]),
                ));
                i = end;
            }
            None => i += 1,
        }
    }
    entities
}

/// Index just past `/command` or `/command@botname` starting at `start`.
fn command_end(chars: &[(usize, char)], start: usize) -> Option<usize> {
    let run = |from: usize| {
        chars[from..]
            .iter()
            .take_while(|(_, c)| is_username_char(*c))
            .count()
    };
    let name = run(start + 1);
    if name == 0 || name > 64 {
        return None;
    }
    let mut end = start + 1 + name;
    if chars.get(end).is_some_and(|(_, c)| *c == '@') {
        let bot = run(end + 1);
        if !(3..=32).contains(&bot) {
            return None;
        }
        end += 1 + bot;
    }
    match chars.get(end) {
        Some((_, c)) if is_word(*c) || matches!(c, '/' | '<' | '>') => None,
        _ => Some(end),
    }
}

/// Index just past `@username` starting at `start`.
fn mention_end(chars: &[(usize, char)], start: usize) -> Option<usize> {
    let len = chars[start + 1..]
        .iter()
        .take_while(|(_, c)| is_username_char(*c))
        .count();
    if !(3..=32).contains(&len) {
        return None;
    }
    let end = start + 1 + len;
    match chars.get(end) {
        Some((_, c)) if is_word(*c) => None,
        _ => Some(end),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(EntityKind, usize, usize)> {
        detect(text)
            .into_iter()
            .map(|e| (e.kind, e.offset_utf16, e.length_utf16))
            .collect()
    }

    #[test]
    fn commands() {
        use EntityKind::BotCommand as C;
        assert_eq!(found("/start"), vec![(C, 0, 6)]);
        assert_eq!(found("/new@switchboard_bot fix it"), vec![(C, 0, 20)]);
        assert_eq!(found("please /stop now"), vec![(C, 7, 5)]);
        assert_eq!(found("see /etc/hosts"), vec![]);
        assert_eq!(found("a/b"), vec![]);
        assert_eq!(found("/"), vec![]);
        assert_eq!(found("/x@ab"), vec![], "bot name too short");
    }

    #[test]
    fn mentions() {
        use EntityKind::Mention as M;
        assert_eq!(found("hi @switchboard_bot!"), vec![(M, 3, 16)]);
        assert_eq!(found("mail a@example.com"), vec![]);
        assert_eq!(found("@ab"), vec![]);
        assert_eq!(
            found("/new @ann"),
            vec![(EntityKind::BotCommand, 0, 4), (M, 5, 4)]
        );
    }

    #[test]
    fn offsets_count_utf16_units() {
        assert_eq!(found("😀 @ann_b"), vec![(EntityKind::Mention, 3, 6)]);
    }
}
