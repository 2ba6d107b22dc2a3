//! Webhook signatures: HMAC-SHA256 tags written in hex, checked in constant time.
//!
//! GitHub (`X-Hub-Signature-256: sha256=<hex>`) and Slack (`X-Slack-Signature: v0=<hex>`) sign
//! their requests the same way over different messages; both checks come here, so the
//! comparison is `ring`'s constant-time one everywhere.

use ring::hmac;

/// True when `hex_tag` is the HMAC-SHA256 of `message` under one of `secrets`.
pub fn verify_sha256_hex<'a>(
    secrets: impl IntoIterator<Item = &'a str>,
    message: &[u8],
    hex_tag: &str,
) -> bool {
    let Some(tag) = hex_decode(hex_tag) else {
        return false;
    };
    secrets.into_iter().any(|secret| {
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        hmac::verify(&key, message, &tag).is_ok()
    })
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GitHub's documented example: secret "It's a Secret to Everybody", payload
    /// "Hello, World!".
    #[test]
    fn githubs_documented_example_verifies() {
        let tag = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(verify_sha256_hex(
            ["wrong", "It's a Secret to Everybody"],
            b"Hello, World!",
            tag
        ));
        assert!(!verify_sha256_hex(["wrong"], b"Hello, World!", tag));
        assert!(!verify_sha256_hex(
            ["It's a Secret to Everybody"],
            b"Hello, World?",
            tag
        ));
        assert!(!verify_sha256_hex(["x"], b"", "zz"));
        assert!(!verify_sha256_hex(["x"], b"", "abc"));
    }
}
