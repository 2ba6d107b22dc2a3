//! Any text as the configuration file: parsing and validation answer with an error, never a
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard::config::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(config) = Config::parse(text) {
        let _ = config.validate();
    }
});
