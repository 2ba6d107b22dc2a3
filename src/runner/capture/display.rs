//! The host's display as a PNG: ImageMagick's `import` grabs the root window of the X display
//! (an Xvfb the host runs, named by the host's `display` setting) and writes it to stdout.

use super::{CaptureError, NOT_INSTALLED, Png, require};
use crate::runner::shell::quote;
use crate::runner::transport::Transport;

/// What `import` (Xlib) says when nothing listens on the display.
const NO_SERVER: &str = "unable to open X server";

/// Captures `display` on `host`.
pub async fn capture(host: &dyn Transport, display: Option<&str>) -> Result<Png, CaptureError> {
    let display = display.ok_or(CaptureError::NoDisplayConfigured)?;
    let script = format!(
        "{}exec import -display {} -window root png:-\n",
        require("import"),
        quote(display)
    );
    let out = host.exec(&script, b"").await?;
    let stderr = out.stderr_text();
    match out.status {
        Some(0) => Png::parse(out.stdout)
            .ok_or_else(|| CaptureError::Failed("import did not write a PNG".to_owned())),
        Some(NOT_INSTALLED) => Err(CaptureError::Missing {
            program: "ImageMagick (import)".to_owned(),
        }),
        _ if stderr.contains(NO_SERVER) => Err(CaptureError::DisplayDown {
            display: display.to_owned(),
            detail: stderr,
        }),
        _ => Err(CaptureError::Failed(format!("import failed: {stderr}"))),
    }
}
