//! Identifiers and timestamps in Slack's formats, as pure functions.
//!
//! * Object ids are a type letter and ten upper-case base-36 characters
//!   (`U043H11ES4V`, `C043YJGBY49`, `F02PM6A1AUA`); the fake counts per type
//!   and scrambles the count with a bijection so ids look like Slack's and
//!   never collide. Event ids are `Ev` and the same ten characters.
//! * A message `ts` is `<unix seconds>.<6 digits of microseconds>`; it is the
//!   message's id in its channel and grows strictly.
//! * Pagination cursors are Slack's: base64 of `next_ts:<ts without the dot>`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
/// 36^9: the nine characters after the leading `0`.
const SPACE: u64 = 101_559_956_668_416;
/// A prime that does not divide 36, so `n * STEP mod SPACE` is a bijection.
const STEP: u64 = 48_271;

/// `prefix` + `0` + nine base-36 characters, distinct for distinct `n`.
pub(super) fn slack_id(prefix: &str, n: u64) -> String {
    let mut v = ((u128::from(n) * u128::from(STEP)) % u128::from(SPACE)) as u64;
    let mut digits = [b'0'; 9];
    for d in digits.iter_mut().rev() {
        *d = ALPHABET[(v % 36) as usize];
        v /= 36;
    }
    format!("{prefix}0{}", String::from_utf8_lossy(&digits))
}

/// `1700000000.000100` from microseconds since the epoch.
pub(super) fn format_ts(micros: u64) -> String {
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

/// Microseconds since the epoch of a well-formed `ts` (`digits.digits`, at
/// most six after the dot, as Slack's own are).
pub(super) fn parse_ts(ts: &str) -> Option<u64> {
    let (secs, frac) = ts.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(secs) || !digits(frac) || frac.len() > 6 {
        return None;
    }
    let micros: u64 = format!("{frac:0<6}").parse().ok()?;
    secs.parse::<u64>()
        .ok()?
        .checked_mul(1_000_000)?
        .checked_add(micros)
}

/// Slack's cursor for "continue after this message".
pub(super) fn cursor_for(ts: &str) -> String {
    STANDARD.encode(format!("next_ts:{}", ts.replace('.', "")))
}

/// The `ts` (in micros) a cursor points at; `None` when it is not one of ours.
pub(super) fn parse_cursor(cursor: &str) -> Option<u64> {
    let raw = STANDARD.decode(cursor).ok()?;
    let text = String::from_utf8(raw).ok()?;
    text.strip_prefix("next_ts:")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_look_like_slacks_and_never_collide() {
        let ids: HashSet<String> = (0..10_000).map(|n| slack_id("U", n)).collect();
        assert_eq!(ids.len(), 10_000);
        for id in ids.iter().take(50) {
            assert_eq!(id.len(), 11, "{id}");
            assert!(id.starts_with("U0"), "{id}");
            assert!(id[1..].bytes().all(|b| ALPHABET.contains(&b)), "{id}");
        }
        assert_eq!(slack_id("Ev", 7).len(), 12);
    }

    #[test]
    fn ts_round_trips_and_sorts_as_text() {
        let ts = format_ts(1_700_000_000_000_100);
        assert_eq!(ts, "1700000000.000100");
        assert_eq!(parse_ts(&ts), Some(1_700_000_000_000_100));
        assert_eq!(parse_ts("1700000000.1"), Some(1_700_000_000_100_000));
        assert!(format_ts(1_700_000_000_000_099) < ts);
        for bad in [
            "",
            "1700000000",
            "x.1",
            "1.",
            ".5",
            "1.2.3",
            "1.1234567",
            "-1.0",
        ] {
            assert_eq!(parse_ts(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn cursors_are_slacks_next_ts() {
        // The cursor Slack's docs show for conversations.replies.
        assert_eq!(
            parse_cursor("bmV4dF90czoxNDg0Njc4MjkwNTE3MDkx"),
            Some(1_484_678_290_517_091)
        );
        assert_eq!(
            cursor_for("1484678290.517091"),
            "bmV4dF90czoxNDg0Njc4MjkwNTE3MDkx"
        );
        assert_eq!(parse_cursor("garbage!"), None);
    }
}
