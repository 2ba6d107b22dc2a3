//! Any text through the four renderers (Telegram HTML, Slack mrkdwn, Discord Markdown, GitHub's
//! Markdown splitter) at a limit the input picks: nothing panics and every piece respects its
//! limit as its platform counts it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard::render::{discord, markdown, slack, telegram};

fuzz_target!(|data: &[u8]| {
    let Some((&shape, text)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let limit = 20 + usize::from(shape) * 8;
    for piece in markdown::split(text, limit) {
        assert!(piece.chars().count() <= limit);
    }
    for part in telegram::render(text, limit) {
        assert!(telegram::visible_len(&part.plain) <= limit);
    }
    for part in slack::render(text, limit) {
        assert!(part.mrkdwn.chars().count() <= limit);
    }
    for part in discord::render(text, limit) {
        assert!(part.content.chars().count() <= limit);
    }
});
