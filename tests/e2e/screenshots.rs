//! `/screenshot`: the host's X display and web pages as the host sees them, captured on a real
//! sshd host with Xvfb, ImageMagick and headless Chromium, posted as photos and decoded here to
//! check that they show what was drawn.

use crate::support::db::Db;
use crate::support::harness::{Harness, Options};
use crate::support::screens::{Pixels, Xvfb, assert_is_the_test_page, serve_page};

const RED: [u8; 3] = [0xff, 0x00, 0x00];

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The display as a photo of its size, showing the window drawn on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_display_is_captured_with_what_is_drawn_on_it() {
    let mut x = Xvfb::start(640, 480);
    x.show_block("#ff0000", (100, 80), (120, 90));
    let mut options = Options::new(Db::Sqlite);
    options.host_toml = format!("display = \"{}\"", x.display);
    let t = Harness::start_with(options).await;

    t.say("/screenshot");
    let text = t.next().await;
    assert_eq!(
        text.text,
        format!("🖥 The display {} on remote (640×480).", x.display)
    );
    let photo = t.next().await;
    assert_eq!(photo.text, "display");
    let image = photo.photo.expect("a photo");
    assert_eq!((image.width, image.height), (640, 480));
    let pixels = Pixels::decode(&image.bytes);
    assert_eq!((pixels.width, pixels.height), (640, 480));
    // The window is placed at 100,80 with a two-pixel frame around its picture.
    assert_eq!(pixels.count(RED, (102, 82), (120, 90)), 120 * 90);
    assert_eq!(pixels.count(RED, (0, 0), (640, 480)), 120 * 90);
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// A page served on the host, captured whole by Chromium on the host; a page that does not
/// load, and a host without a display, get clear messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_is_captured_whole_as_the_host_sees_it() {
    let url = serve_page().await;
    let t = Harness::start(Db::Sqlite).await;

    t.say(&format!("/screenshot {url}"));
    let text = t.next().await;
    assert_eq!(
        text.text,
        format!("🌐 {url} as remote sees it (1280×2800).")
    );
    let photo = t.next().await;
    assert_eq!(photo.text, url);
    let image = photo.photo.expect("a photo");
    assert_eq!((image.width, image.height), (1280, 2800));
    assert_is_the_test_page(&image.bytes);

    let closed = closed_port();
    t.say(&format!("/screenshot http://127.0.0.1:{closed}/"));
    let refused = t.next().await;
    assert!(
        refused.text.contains(&format!(
            "http://127.0.0.1:{closed}/ did not load on remote"
        )) && refused.text.contains("ERR_CONNECTION_REFUSED"),
        "{}",
        refused.text
    );
    t.say("/screenshot");
    let no_display = t.next().await;
    assert!(
        no_display
            .text
            .starts_with("📷 remote has no display to capture."),
        "{}",
        no_display.text
    );
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// A display that is not running, a browser that is not installed and a URL that is not a web
/// address are each told apart; nothing is posted but the message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_displays_browsers_and_bad_urls_are_explained() {
    let mut options = Options::new(Db::Sqlite);
    options.host_toml = "display = \":4711\"\nbrowser = [\"no-such-browser\"]".to_owned();
    let t = Harness::start_with(options).await;

    t.say("/screenshot");
    assert_eq!(
        t.next().await.text,
        "📷 The display :4711 on remote is not running: start its X server (Xvfb) and try again."
    );
    t.say("/screenshot http://localhost:3000/");
    assert_eq!(
        t.next().await.text,
        "📷 no-such-browser is not installed on remote."
    );
    for bad in [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "localhost:3000",
    ] {
        t.say(&format!("/screenshot {bad}"));
        let usage = t.next().await;
        assert!(
            usage.text.starts_with("Usage: /screenshot [url]"),
            "{bad}: {}",
            usage.text
        );
    }
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// A capture that does not finish within the host's `capture_timeout` is given up and said so
/// (here a "browser" that never answers).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capture_that_hangs_is_given_up_at_the_time_limit() {
    let mut options = Options::new(Db::Sqlite);
    options.host_toml =
        "browser = [\"sh\", \"-c\", \"sleep 60\"]\ncapture_timeout = \"2s\"".to_owned();
    let t = Harness::start_with(options).await;

    t.say("/screenshot http://localhost:3000/");
    assert_eq!(
        t.next().await.text,
        "📷 The capture on remote took longer than 2 s and was given up."
    );
    t.say("still answering?");
    t.next().await;
    assert!(t.next().await.text.starts_with("Echo #1: still answering?"));
    t.tg.assert_all_read();
}
