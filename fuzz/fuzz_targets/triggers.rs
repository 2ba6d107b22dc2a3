//! What a schedule's or a hook's sender controls: any text as a cron expression (parsed, and
//! its next slot found) and as a hook's template over any JSON body. An error or `(none)`,
//! never a panic or a runaway search.
#![no_main]

use jiff::Timestamp;
use jiff::tz::TimeZone;
use libfuzzer_sys::fuzz_target;
use switchboard::domain::cron::Cron;
use switchboard::domain::trigger::fill_template;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    if let Ok(cron) = Cron::parse(first) {
        let _ = cron.next_after(Timestamp::UNIX_EPOCH, &TimeZone::UTC);
    }
    if let Ok(body) = serde_json::from_str::<serde_json::Value>(rest) {
        let _ = fill_template(first, &body);
    }
});
