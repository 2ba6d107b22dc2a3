//! SVG files rendered to PNG on the host (chat platforms do not show SVG), with ImageMagick's
//! `convert`, at most [`MAX_SIDE`] pixels on a side.

use super::{CaptureError, NOT_INSTALLED, Png, require};
use crate::runner::shell::quote;
use crate::runner::transport::Transport;

/// The longest side of a rendered SVG, in pixels.
pub const MAX_SIDE: u32 = 2048;

/// Renders the SVG at `path` to a PNG; `enter` is a script fragment that enters the directory
/// `path` is relative to (such as [`changes::prelude`](crate::runner::changes::prelude)).
pub async fn render(host: &dyn Transport, enter: &str, path: &str) -> Result<Png, CaptureError> {
    let script = format!(
        "{enter}{require}exec convert -background none {input} -resize {size} png:-\n",
        require = require("convert"),
        input = quote(&format!("svg:{path}")),
        size = quote(&format!("{MAX_SIDE}x{MAX_SIDE}>")),
    );
    let out = host.exec(&script, b"").await?;
    match out.status {
        Some(0) => Png::parse(out.stdout)
            .ok_or_else(|| CaptureError::Failed(format!("convert did not render {path}"))),
        Some(NOT_INSTALLED) => Err(CaptureError::Missing {
            program: "ImageMagick (convert)".to_owned(),
        }),
        _ => Err(CaptureError::Failed(format!(
            "rendering {path} failed: {}",
            out.stderr_text()
        ))),
    }
}
