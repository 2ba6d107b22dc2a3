//! A real headless Chromium for the web console's end-to-end tests (Debian's `chromium`, which
//! `.ci/run` installs), driven over the DevTools protocol with the bot's own client
//! (`runner::capture::cdp`) through the local transport — no browser-automation dependency.
//! Screenshots are kept as test artifacts under `CARGO_TARGET_TMPDIR/web-screenshots/`.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use switchboard::runner::capture::cdp::Cdp;
use switchboard::runner::capture::page;
use switchboard::runner::local::LocalTransport;
use switchboard::runner::transport::Transport;

use super::harness::WAIT;

pub struct Browser {
    cdp: Cdp,
    session: String,
}

/// The viewport pages are shown in.
pub const VIEWPORT: (u32, u32) = (1280, 900);

impl Browser {
    /// Starts Chromium (without its sandbox: the tests run as root) with one tab.
    pub async fn start() -> Browser {
        let script = page::launch_script(&["chromium".to_owned(), "--no-sandbox".to_owned()]);
        let conversation = LocalTransport::new("browser")
            .converse(&script)
            .await
            .expect("start chromium (scripts/test-setup.sh installs it)");
        let mut cdp = Cdp::new(conversation);
        let target = cdp
            .call(None, "Target.createTarget", json!({"url": "about:blank"}))
            .await
            .expect("chromium answers: is it installed? run scripts/test-setup.sh");
        let attached = cdp
            .call(
                None,
                "Target.attachToTarget",
                json!({"targetId": target["targetId"], "flatten": true}),
            )
            .await
            .unwrap();
        let session = attached["sessionId"].as_str().unwrap().to_owned();
        let mut browser = Browser { cdp, session };
        browser.call("Page.enable", json!({})).await;
        let (width, height) = VIEWPORT;
        browser.viewport(width, height, false).await;
        browser
    }

    /// Shows pages `width` × `height` CSS pixels large, as a phone (`mobile`: the page's
    /// viewport meta tag applies) or a desktop would.
    pub async fn viewport(&mut self, width: u32, height: u32, mobile: bool) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        )
        .await;
    }

    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.cdp
            .call(Some(&self.session), method, params)
            .await
            .unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    /// Opens `url` and waits for its `load` event.
    pub async fn goto(&mut self, url: &str) {
        let navigated = self.call("Page.navigate", json!({"url": url})).await;
        assert!(navigated.get("errorText").is_none(), "{navigated}");
        let session = self.session.clone();
        tokio::time::timeout(WAIT, self.cdp.event(&session, "Page.loadEventFired"))
            .await
            .expect("the page loads")
            .unwrap();
    }

    /// Runs `script` in the page (awaiting a promise it returns) and returns its value.
    pub async fn eval(&mut self, script: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": script, "awaitPromise": true, "returnByValue": true}),
            )
            .await;
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("{script}: {exception}");
        }
        result["result"]["value"].clone()
    }

    /// Waits until `condition` (a script) is truthy in the page; `what` names it for failures.
    pub async fn wait_for(&mut self, condition: &str, what: &str) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let value = self.eval(condition).await;
            let falsy = value.is_null()
                || value == json!(false)
                || value == json!("")
                || value.as_f64() == Some(0.0);
            if !falsy {
                return value;
            }
            if tokio::time::Instant::now() > deadline {
                let text = self.eval("document.body.innerText").await;
                panic!("the page never showed {what}; it shows:\n{text}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Types `text` into the focused element, as a keyboard would.
    pub async fn type_text(&mut self, text: &str) {
        self.call("Input.insertText", json!({"text": text})).await;
    }

    /// Presses Ctrl+Enter.
    pub async fn ctrl_enter(&mut self) {
        for kind in ["rawKeyDown", "keyUp"] {
            let key = json!({
                "type": kind, "key": "Enter", "code": "Enter",
                "windowsVirtualKeyCode": 13, "modifiers": 2,
            });
            self.call("Input.dispatchKeyEvent", key).await;
        }
    }

    /// Shows pages as a system set to the dark (or light) colour scheme would.
    pub async fn prefer_dark(&mut self, dark: bool) {
        let scheme = if dark { "dark" } else { "light" };
        let media = json!({"features": [{"name": "prefers-color-scheme", "value": scheme}]});
        self.call("Emulation.setEmulatedMedia", media).await;
    }

    /// A PNG of the viewport, also kept as `<name>.png` among the test artifacts.
    pub async fn screenshot(&mut self, name: &str) -> Vec<u8> {
        use base64::Engine;
        let shot = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("web-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
        png
    }
}
