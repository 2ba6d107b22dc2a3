//! Webhook deliveries as GitHub-Hookshot makes them: a JSON POST with the
//! `X-GitHub-*` headers and HMAC signatures of the exact body bytes
//! (`X-Hub-Signature-256`, and the legacy SHA-1 `X-Hub-Signature`).
//!
//! Deliveries are made when the test asks, once, and wait for the answer;
//! GitHub does not retry failed deliveries on its own either (a person or an
//! API call redelivers, with the same delivery id — [`redeliver`]).
//!
//! The POST is written by hand over a `TcpStream` (HTTP/1.1,
//! `Connection: close`), so the fake needs no HTTP client; only `http://`
//! receivers are supported.

use std::time::Duration;

use bytes::Bytes;
use ring::hmac;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a receiver may take; GitHub gives up after 10 s.
const RECEIVER_TIMEOUT: Duration = Duration::from_secs(10);

/// The `User-Agent` Hookshot sends (the suffix is a build id).
pub(super) const USER_AGENT: &str = "GitHub-Hookshot/8f3c1e2";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `sha256=<hex>`: the `X-Hub-Signature-256` of `body` under `secret`.
pub fn hub_signature_256(secret: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    format!("sha256={}", hex(hmac::sign(&key, body).as_ref()))
}

/// `sha1=<hex>`: the legacy `X-Hub-Signature`.
pub fn hub_signature_sha1(secret: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret.as_bytes());
    format!("sha1={}", hex(hmac::sign(&key, body).as_ref()))
}

/// The headers of a signed delivery, in Hookshot's order.
pub(super) fn signed_headers(
    secret: &str,
    event: &str,
    delivery_id: &str,
    hook_id: u64,
    app_id: u64,
    body: &[u8],
) -> Vec<(String, String)> {
    [
        ("User-Agent", USER_AGENT.to_string()),
        ("X-GitHub-Delivery", delivery_id.to_string()),
        ("X-GitHub-Event", event.to_string()),
        ("X-GitHub-Hook-ID", hook_id.to_string()),
        ("X-GitHub-Hook-Installation-Target-ID", app_id.to_string()),
        (
            "X-GitHub-Hook-Installation-Target-Type",
            "integration".to_string(),
        ),
        ("X-Hub-Signature", hub_signature_sha1(secret, body)),
        ("X-Hub-Signature-256", hub_signature_256(secret, body)),
        ("Content-Type", "application/json".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// POSTs `body` with `headers` to an `http://` URL; returns the status and
/// the response body, or the connection error.
pub(super) async fn post(
    url: &str,
    headers: &[(String, String)],
    body: &Bytes,
) -> Result<(u16, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("unsupported webhook URL {url}"))?;
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| rest.split_at(i));
    let address = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let exchange = async {
        let mut stream = TcpStream::connect(&address)
            .await
            .map_err(|e| format!("connection refused: {e}"))?;
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream
            .write_all(head.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        stream.write_all(body).await.map_err(|e| e.to_string())?;
        let mut response = Vec::new();
        stream
            .read_to_end(&mut response)
            .await
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&response);
        let status = text
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| "no HTTP status in the response".to_string())?;
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        Ok((status, body))
    };
    tokio::time::timeout(RECEIVER_TIMEOUT, exchange)
        .await
        .map_err(|_| "timed out".to_string())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_githubs_documented_example() {
        // From GitHub's "Validating webhook deliveries" page.
        assert_eq!(
            hub_signature_256("It's a Secret to Everybody", b"Hello, World!"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
        assert!(hub_signature_sha1("k", b"x").starts_with("sha1="));
        assert_eq!(hub_signature_sha1("k", b"x").len(), 5 + 40);
    }
}
