//! What Telegram sends, as the intake reads it: a getUpdates answer cut into updates without a
//! depth limit (and the `update_id` of one that does not parse found without parsing it), each
//! update read on its own — parsed, and translated with its entities measured in UTF-16.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard::bots::telegram::BotIdentity;
use switchboard::bots::telegram::intake::read;
use switchboard::bots::telegram::json_split::{array_elements, object_members};

fuzz_target!(|data: &[u8]| {
    let me = BotIdentity {
        id: 42,
        username: "switchboard_bot".into(),
    };
    // The input as one update (a webhook body)…
    let _ = read(data, &me);
    // …and as a getUpdates answer, cut as the poller cuts it.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(members) = object_members(text) else {
        return;
    };
    for (key, value) in members {
        if key == "result"
            && let Ok(updates) = array_elements(value)
        {
            for update in updates {
                let _ = read(update.as_bytes(), &me);
            }
        }
    }
});
