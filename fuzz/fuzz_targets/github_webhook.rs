//! A GitHub delivery as the webhook reads it: the signature header's tag checked over the body,
//! the body parsed as each consumed event, translated for the App, and — for a pull request —
//! read for dependency changes (title, body, and the body again as a lockfile patch).
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard::reviews::deps::{self, ChangedFile};
use switchboard::bots::github::payload::{self, Event};
use switchboard::bots::github::translate::{self, Identity};
use switchboard::bots::signature::verify_sha256_hex;

const EVENTS: [&str; 7] = [
    "issue_comment",
    "issues",
    "pull_request_review_comment",
    "pull_request_review",
    "pull_request",
    "ping",
    "push",
];

fuzz_target!(|data: &[u8]| {
    // First line: the signature's hex tag; the rest: the body.
    let split = data.iter().position(|b| *b == b'\n').unwrap_or(data.len());
    let (tag, body) = (&data[..split], data.get(split + 1..).unwrap_or_default());
    let _ = verify_sha256_hex(
        ["secret", "next-secret"],
        body,
        &String::from_utf8_lossy(tag),
    );
    let me = Identity {
        handle: "switchboard".into(),
        bot_login: "switchboard[bot]".into(),
        dependency_bots: vec!["dependabot[bot]".into(), "renovate[bot]".into()],
        issue_label: Some("agent".into()),
    };
    for name in EVENTS {
        let Ok(event) = payload::parse(name, body) else {
            continue;
        };
        let _ = event.signed_time();
        let _ = translate::translate(&event, &me);
        if let Event::PullRequest(pr) = &event {
            let text = pr.pull_request.body.as_deref().unwrap_or_default();
            let files = [
                ChangedFile {
                    filename: "Cargo.lock".into(),
                    patch: Some(text.to_owned()),
                },
                ChangedFile {
                    filename: "package-lock.json".into(),
                    patch: Some(text.to_owned()),
                },
                ChangedFile {
                    filename: "yarn.lock".into(),
                    patch: Some(text.to_owned()),
                },
                ChangedFile {
                    filename: "poetry.lock".into(),
                    patch: Some(text.to_owned()),
                },
                ChangedFile {
                    filename: "go.sum".into(),
                    patch: Some(text.to_owned()),
                },
            ];
            let changes = deps::changes(&pr.pull_request.title, text, &files);
            let _ = deps::fingerprint(&changes);
        }
    }
});
