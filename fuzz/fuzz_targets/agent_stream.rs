//! The agent's output as the follower reads it: any bytes, cut into chunks anywhere, through the
//! line reader and Claude Code's stream-json parser and outcome classifier.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard::agents::claude;
use switchboard::domain::agent_event::AgentEvent;
use switchboard::runner::output_lines::{LineContent, OutputLines};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the chunk size and the line limit, the rest is the output file.
    let Some((&shape, output)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(shape % 64) + 1;
    let limit = usize::from(shape / 64) * 256 + 64;
    let mut reader = OutputLines::new(0, limit);
    let mut lines = Vec::new();
    for piece in output.chunks(chunk) {
        lines.extend(reader.push(piece));
    }
    lines.extend(reader.finish());
    assert_eq!(reader.consumed(), output.len() as u64);
    let mut result = None;
    for line in lines {
        if let LineContent::Bytes(bytes) = line.content {
            assert!(bytes.len() <= limit);
            for event in claude::parse_line(&bytes) {
                if let AgentEvent::Finished(r) = event {
                    result = Some(r);
                }
            }
        }
    }
    let stderr = String::from_utf8_lossy(output);
    let _ = claude::classify(result.as_ref(), Some(1), &stderr, "claude");
});
