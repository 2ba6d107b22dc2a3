//! Fetching the files users send on Slack and Discord: only from the platform's own file hosts
//! (or the configured API server's origin, for a self-hosted or test API), and never more than
//! the size limit, however large the server says — or does not say — the file is.
//!
//! The host check matters on Slack, whose file URLs need the bot token: the token must never be
//! sent to a URL that merely claims to be a file.

use anyhow::{Result, bail};

/// Whether `url` may be fetched: `https` on one of `hosts`, or the same origin as `api`.
pub fn is_trusted(url: &str, hosts: &[&str], api: &str) -> bool {
    let Ok(url) = url::Url::parse(url) else {
        return false;
    };
    let same_origin = url::Url::parse(api).is_ok_and(|api| api.origin() == url.origin());
    let platform_host = url.scheme() == "https"
        && url
            .host_str()
            .is_some_and(|host| hosts.iter().any(|h| h.eq_ignore_ascii_case(host)));
    same_origin || platform_host
}

/// Sends a download request to `platform` and returns the body of its successful response;
/// `None` once it passes `max` bytes.
pub async fn fetch(
    request: reqwest::RequestBuilder,
    platform: &str,
    max: u64,
) -> Result<Option<Vec<u8>>> {
    let response = request
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("downloading from {platform} failed: {}", e.without_url()))?;
    capped(response, max).await
}

/// The body of a successful response; `None` once it passes `max` bytes.
async fn capped(mut response: reqwest::Response, max: u64) -> Result<Option<Vec<u8>>> {
    let status = response.status();
    if !status.is_success() {
        bail!("the file server answered {status}");
    }
    if response.content_length().is_some_and(|length| length > max) {
        return Ok(None);
    }
    let mut data = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| anyhow::anyhow!("the download broke off: {}", e.without_url()))?
    {
        data.extend_from_slice(&chunk);
        if data.len() as u64 > max {
            return Ok(None);
        }
    }
    Ok(Some(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_platforms_hosts_or_the_apis_origin_are_trusted() {
        let hosts = ["files.slack.com"];
        let api = "http://127.0.0.1:4000/api/";
        assert!(is_trusted(
            "https://files.slack.com/files-pri/T1-F1/a.png",
            &hosts,
            api
        ));
        assert!(is_trusted("http://127.0.0.1:4000/files/F1", &hosts, api));
        for url in [
            "http://files.slack.com/files-pri/T1-F1/a.png",
            "https://files.slack.com.evil.example/a.png",
            "https://evil.example/files.slack.com/a.png",
            "http://127.0.0.1:4001/files/F1",
            "file:///etc/passwd",
            "not a url",
        ] {
            assert!(!is_trusted(url, &hosts, api), "{url}");
        }
    }
}
