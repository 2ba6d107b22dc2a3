//! A web page as the host sees it — the dev server the agent started on `localhost:3000` — in
//! headless Chromium on the host, the whole page rather than the first screenful.
//!
//! Chromium's `--screenshot` flag only captures the window, so the browser is driven over the
//! DevTools protocol ([`super::cdp`]): open a tab of [`VIEWPORT`] width, navigate, wait for the
//! `load` event (at most [`LOAD_WAIT`]; a page that never finishes is captured as it is), measure
//! the content and capture it, at most [`MAX_HEIGHT`] pixels tall. The browser runs with a
//! throwaway profile that is removed afterwards, and without the background networking
//! (updates, sync, safe browsing) that a closed network would make slow.

use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use super::cdp::Cdp;
use super::{CaptureError, Png};
use crate::runner::shell::{join, quote};
use crate::runner::transport::Transport;

/// The tab's size in CSS pixels; pages are captured at this width.
pub const VIEWPORT: (u32, u32) = (1280, 800);
/// The tallest capture: longer pages are cut (Telegram refuses taller photos).
pub const MAX_HEIGHT: u32 = 8000;
/// How long to wait for the page's `load` event before capturing what is there.
pub const LOAD_WAIT: Duration = Duration::from_secs(20);

/// The flags every capture runs the browser with (after the configured command).
const FLAGS: &[&str] = &[
    "--headless",
    "--disable-gpu",
    "--hide-scrollbars",
    "--mute-audio",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
];

/// A captured page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageShot {
    pub png: Png,
    /// The page is taller than [`MAX_HEIGHT`] and was cut there.
    pub cut: bool,
    /// The page had not fired `load` within [`LOAD_WAIT`].
    pub unfinished: bool,
}

/// Captures `url` with the browser started by `browser` (a command and its own arguments).
pub async fn capture(
    host: &dyn Transport,
    browser: &[String],
    url: &str,
) -> Result<PageShot, CaptureError> {
    let program = browser.first().map(String::as_str).unwrap_or("chromium");
    let script = launch_script(browser);
    let conversation = host.converse(&script).await?;
    let mut cdp = Cdp::new(conversation);
    drive(&mut cdp, url).await.map_err(|e| match e {
        CaptureError::Missing { .. } => CaptureError::Missing {
            program: program.to_owned(),
        },
        other => other,
    })
}

/// The script that runs `browser` headless with the DevTools protocol on its stdin and stdout
/// (fd 3 and 4), its own output discarded and its throwaway profile removed when it exits.
pub fn launch_script(browser: &[String]) -> String {
    let program = browser.first().map(String::as_str).unwrap_or("chromium");
    format!(
        "{require}d=$(mktemp -d) || exit 1\n\
         {browser} {flags} --user-data-dir=\"$d\" about:blank 3<&0 4>&1 </dev/null >/dev/null 2>&1\n\
         s=$?; rm -rf \"$d\"; exit $s\n",
        require = super::require(program),
        browser = join(browser),
        flags = FLAGS.iter().map(|f| quote(f)).collect::<Vec<_>>().join(" "),
    )
}

async fn drive(cdp: &mut Cdp, url: &str) -> Result<PageShot, CaptureError> {
    let target = cdp
        .call(None, "Target.createTarget", json!({"url": "about:blank"}))
        .await?;
    let target = text(&target, "targetId")?;
    let attached = cdp
        .call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
        )
        .await?;
    let session = text(&attached, "sessionId")?;
    let page = Some(session.as_str());
    cdp.call(page, "Page.enable", json!({})).await?;
    let (width, height) = VIEWPORT;
    cdp.call(
        page,
        "Emulation.setDeviceMetricsOverride",
        json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
    )
    .await?;
    let navigated = cdp.call(page, "Page.navigate", json!({"url": url})).await?;
    if let Some(reason) = navigated.get("errorText").and_then(Value::as_str) {
        return Err(CaptureError::PageFailed {
            reason: reason.to_owned(),
        });
    }
    let unfinished = tokio::time::timeout(LOAD_WAIT, cdp.event(&session, "Page.loadEventFired"))
        .await
        .is_err();

    let metrics = cdp.call(page, "Page.getLayoutMetrics", json!({})).await?;
    let content = metrics
        .get("cssContentSize")
        .or_else(|| metrics.get("contentSize"));
    let size = |key: &str| {
        content
            .and_then(|c| c.get(key))
            .and_then(Value::as_f64)
            .map_or(0, |v| v.ceil() as u32)
    };
    let full_height = size("height").max(1);
    let clip_width = size("width").clamp(1, width);
    let clip_height = full_height.min(MAX_HEIGHT);
    let shot = cdp
        .call(
            page,
            "Page.captureScreenshot",
            json!({
                "format": "png",
                "captureBeyondViewport": true,
                "clip": {"x": 0, "y": 0, "width": clip_width, "height": clip_height, "scale": 1},
            }),
        )
        .await?;
    let data = base64::engine::general_purpose::STANDARD
        .decode(text(&shot, "data")?)
        .map_err(|e| CaptureError::Failed(format!("the screenshot is not base64: {e}")))?;
    // Closing is a courtesy: dropping the conversation closes the pipe, which ends the browser.
    let _ = cdp.call(None, "Browser.close", json!({})).await;
    let png = Png::parse(data)
        .ok_or_else(|| CaptureError::Failed("the browser did not return a PNG".to_owned()))?;
    Ok(PageShot {
        png,
        cut: full_height > MAX_HEIGHT,
        unfinished,
    })
}

/// A string field of a DevTools result.
fn text(result: &Value, field: &str) -> Result<String, CaptureError> {
    result
        .get(field)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| CaptureError::Failed(format!("the browser's answer has no {field}")))
}
