//! Pictures taken on a workspace host: its display ([`display`]), a web page as the host sees it
//! ([`page`]), and SVG files rendered to PNG ([`svg`]).
//!
//! Everything runs on the host, through the same [`Transport`](super::transport::Transport) as a
//! turn, because what the user wants to see is there: the Xvfb display the agent's GUI programs
//! draw on, the dev server it started on `localhost:3000`. The host needs ImageMagick (display
//! captures, SVG) and Chromium (pages); a missing tool is a clear message, not an error.
//!
//! Every capture is bounded by a time limit (the host's `capture_timeout`, 45 s by default:
//! `config`'s `DEFAULT_CAPTURE_TIMEOUT`), and its result is checked to be a PNG before it is sent anywhere.

pub mod cdp;
pub mod display;
pub mod page;
pub mod svg;

use std::time::Duration;

use super::transport::TransportError;

/// A PNG image and its size in pixels (read from its header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Png {
    pub data: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

impl Png {
    /// Checks that `data` is a PNG and reads its size; `None` for anything else.
    pub fn parse(data: Vec<u8>) -> Option<Png> {
        const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
        // The signature, then the IHDR chunk: length, "IHDR", width, height.
        if data.len() < 24 || !data.starts_with(SIGNATURE) || &data[12..16] != b"IHDR" {
            return None;
        }
        let word = |at: usize| u32::from_be_bytes(data[at..at + 4].try_into().expect("4 bytes"));
        let (width, height) = (word(16), word(20));
        (width > 0 && height > 0).then_some(Png {
            data,
            width,
            height,
        })
    }
}

/// Why there is no picture; each variant is worded for the user by the replies module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    /// The host has no `display` configured.
    #[error("no display is configured for this host")]
    NoDisplayConfigured,
    /// The configured display does not answer (Xvfb not running).
    #[error("the display {display} is not running: {detail}")]
    DisplayDown { display: String, detail: String },
    /// A program the capture needs is not installed on the host.
    #[error("{program} is not installed on the host")]
    Missing { program: String },
    /// The page did not load (DNS, connection refused, bad certificate, …).
    #[error("the page did not load: {reason}")]
    PageFailed { reason: String },
    /// The capture took longer than its time limit.
    #[error("the capture took longer than {}s", .0.as_secs())]
    TimedOut(Duration),
    /// The host could not be reached or the connection dropped.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The program ran but did not produce a picture.
    #[error("{0}")]
    Failed(String),
}

/// Runs `capture`, giving up after `limit`.
pub async fn within<T, F>(limit: Duration, capture: F) -> Result<T, CaptureError>
where
    F: std::future::Future<Output = Result<T, CaptureError>>,
{
    tokio::time::timeout(limit, capture)
        .await
        .unwrap_or(Err(CaptureError::TimedOut(limit)))
}

/// The exit status a capture script uses for "the program is not installed".
const NOT_INSTALLED: u32 = 127;

/// A script line that exits with [`NOT_INSTALLED`] unless `program` is on the `PATH`.
fn require(program: &str) -> String {
    format!(
        "command -v {} >/dev/null 2>&1 || exit {NOT_INSTALLED}\n",
        super::shell::quote(program)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_headers_are_read_and_other_bytes_refused() {
        // A 1×1 PNG, as `convert xc:red png:-` writes one (header part).
        let mut one = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        one.extend_from_slice(&1280u32.to_be_bytes());
        one.extend_from_slice(&800u32.to_be_bytes());
        one.extend_from_slice(b"\x08\x02\0\0\0");
        let png = Png::parse(one.clone()).expect("a PNG");
        assert_eq!((png.width, png.height), (1280, 800));

        assert_eq!(Png::parse(b"GIF89a".to_vec()), None);
        assert_eq!(Png::parse(one[..20].to_vec()), None);
        let mut zero = one.clone();
        zero[16..20].copy_from_slice(&0u32.to_be_bytes());
        assert_eq!(Png::parse(zero), None);
        let mut not_ihdr = one;
        not_ihdr[12..16].copy_from_slice(b"IDAT");
        assert_eq!(Png::parse(not_ihdr), None);
    }
}
