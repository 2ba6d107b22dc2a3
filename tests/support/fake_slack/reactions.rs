//! `reactions.add` and `reactions.remove` by the bot on messages.
//!
//! Emoji names are checked for Slack's syntax only: lower-case letters,
//! digits, `_`, `-`, `+` and `'`, optionally followed by `::skin-tone-2`…`6`
//! (Slack's documented modifier form). A name wrapped in colons (`:eyes:`),
//! upper case, spaces or an empty name is `invalid_name`. Slack also refuses
//! names that are neither standard nor custom emoji; the fake cannot know a
//! workspace's custom emoji, so it accepts every well-formed name —
//! [`COMMON`] lists the standard ones a bot typically uses, for tests.

use serde_json::json;

use super::ids::parse_ts;
use super::methods::Ctx;
use super::reply::{ApiError, Reply, fields};

/// Standard emoji a bot commonly reacts with.
pub const COMMON: &[&str] = &[
    "eyes",
    "white_check_mark",
    "heavy_check_mark",
    "x",
    "hourglass_flowing_sand",
    "hourglass",
    "warning",
    "thumbsup",
    "+1",
    "-1",
    "rocket",
    "tada",
    "hammer_and_wrench",
    "stop_sign",
    "no_entry",
    "arrows_counterclockwise",
    "speech_balloon",
    "thinking_face",
];

pub(super) fn valid_name(name: &str) -> bool {
    let (base, tone) = match name.split_once("::") {
        Some((base, tone)) => (base, Some(tone)),
        None => (name, None),
    };
    let base_ok = !base.is_empty()
        && base
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-+'".contains(&b));
    let tone_ok = tone.is_none_or(|t| {
        t.strip_prefix("skin-tone-")
            .is_some_and(|n| matches!(n, "2" | "3" | "4" | "5" | "6"))
    });
    base_ok && tone_ok
}

/// The message and emoji of a call, checked in Slack's order.
fn target(cx: &mut Ctx<'_>) -> Result<(String, String, String), ApiError> {
    let channel = cx.channel("channel", false)?;
    let ts =
        cx.p.string("timestamp")
            .ok_or_else(|| ApiError::new("no_item_specified"))?;
    if parse_ts(&ts).is_none() {
        return Err(ApiError::new("bad_timestamp"));
    }
    let name = cx.p.string("name").unwrap_or_default();
    if !valid_name(&name) {
        return Err(ApiError::new("invalid_name"));
    }
    match cx.st.message(&channel, &ts) {
        Some(m) if !m.deleted => Ok((channel, ts, name)),
        _ => Err(ApiError::new("message_not_found")),
    }
}

pub(super) fn add(cx: &mut Ctx<'_>) -> Reply {
    let (channel, ts, name) = target(cx)?;
    let bot = cx.bot();
    let m = cx.st.message_mut(&channel, &ts).expect("checked");
    match m.reactions.iter_mut().find(|(n, _)| *n == name) {
        Some((_, users)) if users.contains(&bot) => return Err(ApiError::new("already_reacted")),
        Some((_, users)) => users.push(bot),
        None => m.reactions.push((name, vec![bot])),
    }
    Ok(fields(json!({})))
}

pub(super) fn remove(cx: &mut Ctx<'_>) -> Reply {
    let (channel, ts, name) = target(cx)?;
    let bot = cx.bot();
    let m = cx.st.message_mut(&channel, &ts).expect("checked");
    let Some(i) = m
        .reactions
        .iter()
        .position(|(n, users)| *n == name && users.contains(&bot))
    else {
        return Err(ApiError::new("no_reaction"));
    };
    m.reactions[i].1.retain(|u| *u != bot);
    if m.reactions[i].1.is_empty() {
        m.reactions.remove(i);
    }
    Ok(fields(json!({})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emoji_names_follow_slacks_syntax() {
        for ok in COMMON {
            assert!(valid_name(ok), "{ok}");
        }
        for ok in [
            "thumbsup::skin-tone-6",
            "wave::skin-tone-3",
            "my_custom-emoji2",
            "don't",
        ] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in [
            "",
            ":eyes:",
            "Eyes",
            "two words",
            "thumbsup::skin-tone-7",
            "thumbsup::",
            "a::b",
        ] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }
}
