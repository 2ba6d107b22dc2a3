//! What screenshot tests look at: a real X display (`Xvfb` on a free display number, which it
//! picks and tells us through `-displayfd`) with windows drawn on it by ImageMagick's `display`,
//! a web page of known colour blocks, and PNGs decoded to pixels. Processes are killed when
//! dropped. `scripts/test-setup.sh` installs Xvfb, ImageMagick and x11-utils; a missing one
//! fails the test with the command to run.
//!
//! The display runs with `-noreset`. By default an X server resets itself whenever its last
//! client disconnects, and a client connecting meanwhile is dropped: a window's `display`
//! process that connected just as a short-lived client (the capture, `xwininfo`) left died
//! with it, and its window never came — the flake "no 120x90+100+80 window appeared", more
//! likely the slower a loaded machine starts `display`. A window is awaited on the root
//! window's own events (`xev`: a window mapped or moved), not by polling.

use std::net::SocketAddr;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How long a window may take to appear.
const WINDOW_WAIT: Duration = Duration::from_secs(20);

/// A running Xvfb.
pub struct Xvfb {
    pub display: String,
    pub width: u32,
    pub height: u32,
    server: Child,
    root: RootEvents,
    windows: Vec<Child>,
}

/// The structure and property events of a display's root window, line by line from `xev`.
struct RootEvents {
    xev: Child,
    lines: Receiver<String>,
}

impl RootEvents {
    /// Starts `xev` on the root window and returns once it reports events: it is told a root
    /// property changed until it says so (a change made before it listened is not seen).
    fn watch(display: &str) -> RootEvents {
        let mut xev = Command::new("xev")
            .args(["-display", display, "-root"])
            .args(["-event", "substructure", "-event", "property"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("xev is missing: run scripts/test-setup.sh as root");
        let out = BufReader::new(xev.stdout.take().expect("piped"));
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let root = RootEvents { xev, lines };
        let deadline = Instant::now() + WINDOW_WAIT;
        loop {
            let set = Command::new("xprop")
                .args(["-display", display, "-root", "-f", "SWITCHBOARD_TEST", "8s"])
                .args(["-set", "SWITCHBOARD_TEST", "listening?"])
                .status()
                .expect("xprop is missing: run scripts/test-setup.sh as root");
            assert!(set.success(), "xprop on {display}: {set}");
            let answer = (Instant::now() + Duration::from_millis(200)).min(deadline);
            if root.next_until(answer, |l| l.starts_with("PropertyNotify")) {
                return root;
            }
            assert!(Instant::now() < deadline, "xev never listened on {display}");
        }
    }

    /// Waits for an event line that `wanted`, until `deadline`; false when none came.
    fn next_until(&self, deadline: Instant, wanted: impl Fn(&str) -> bool) -> bool {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if wanted(&line) => return true,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => return false,
                Err(RecvTimeoutError::Disconnected) => panic!("xev stopped"),
            }
        }
    }
}

impl Xvfb {
    /// Starts a `width`×`height`, 24-bit display that only local clients can reach.
    pub fn start(width: u32, height: u32) -> Xvfb {
        let mut server = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-nolisten",
                "tcp",
                "-noreset",
                "-screen",
                "0",
            ])
            .arg(format!("{width}x{height}x24"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb is missing: run scripts/test-setup.sh as root");
        let mut line = String::new();
        BufReader::new(server.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("Xvfb's display number");
        let number: u32 = line
            .trim()
            .parse()
            .expect("Xvfb printed its display number");
        let display = format!(":{number}");
        Xvfb {
            root: RootEvents::watch(&display),
            display,
            width,
            height,
            server,
            windows: Vec::new(),
        }
    }

    /// Shows a `width`×`height` block of `colour` (`#rrggbb`) at `x`,`y` in a window of its own,
    /// and waits until the window is mapped there: looked for once now and again after each
    /// window the root sees mapped or moved.
    pub fn show_block(&mut self, colour: &str, (x, y): (u32, u32), (width, height): (u32, u32)) {
        let window = Command::new("display")
            .arg("-display")
            .arg(&self.display)
            .arg("-geometry")
            .arg(format!("+{x}+{y}"))
            .arg("-size")
            .arg(format!("{width}x{height}"))
            .arg(format!("xc:{colour}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ImageMagick's display is missing: run scripts/test-setup.sh as root");
        self.windows.push(window);
        let expected = format!("{width}x{height}+{x}+{y}");
        let deadline = Instant::now() + WINDOW_WAIT;
        loop {
            let tree = Command::new("xwininfo")
                .args(["-display", &self.display, "-root", "-tree"])
                .output()
                .expect("xwininfo is missing: run scripts/test-setup.sh as root");
            if String::from_utf8_lossy(&tree.stdout).contains(&expected) {
                return;
            }
            let changed = self.root.next_until(deadline, |l| {
                l.starts_with("MapNotify") || l.starts_with("ConfigureNotify")
            });
            if !changed {
                let exited = self
                    .windows
                    .last_mut()
                    .and_then(|w| w.try_wait().ok().flatten());
                panic!(
                    "no {expected} window appeared on {} (display exited: {exited:?})",
                    self.display
                );
            }
        }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let children = self.windows.iter_mut().chain([&mut self.root.xev]);
        for child in children.chain([&mut self.server]) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A decoded PNG as 8-bit RGB pixels.
pub struct Pixels {
    pub width: u32,
    pub height: u32,
    rgb: Vec<u8>,
}

impl Pixels {
    /// Decodes a PNG (any colour type and depth), panicking when it is not one.
    pub fn decode(png: &[u8]) -> Pixels {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(png));
        decoder.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = decoder.read_info().expect("a PNG header");
        let mut buf = vec![0; reader.output_buffer_size().expect("a size")];
        let info = reader.next_frame(&mut buf).expect("a PNG frame");
        let channels = info.color_type.samples();
        let rgb = buf[..info.buffer_size()]
            .chunks(channels)
            .flat_map(|p| match channels {
                1 | 2 => [p[0], p[0], p[0]],
                _ => [p[0], p[1], p[2]],
            })
            .collect();
        Pixels {
            width: info.width,
            height: info.height,
            rgb,
        }
    }

    /// The colour at `x`,`y`.
    pub fn at(&self, x: u32, y: u32) -> [u8; 3] {
        let i = ((y * self.width + x) * 3) as usize;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// How many pixels of the rectangle at `x`,`y` of `width`×`height` are `colour`.
    pub fn count(&self, colour: [u8; 3], (x, y): (u32, u32), (width, height): (u32, u32)) -> u32 {
        let mut n = 0;
        for row in y..y + height {
            for col in x..x + width {
                n += u32::from(self.at(col, row) == colour);
            }
        }
        n
    }
}

pub const GREEN: [u8; 3] = [0x00, 0xaa, 0x55];
pub const BLUE: [u8; 3] = [0x30, 0x50, 0xff];

/// A page 2,800 CSS pixels tall: a 300×200 [`GREEN`] block at the top, a [`BLUE`] one at the
/// bottom, white between.
const PAGE: &str = "<!doctype html><html><head><style>\
    html,body{margin:0;background:#fff}\
    div{width:300px;height:200px}\
    #top{background:#00aa55} #gap{height:2400px} #bottom{background:#3050ff}\
    </style></head><body><div id=top></div><div id=gap></div><div id=bottom></div></body></html>";

/// Serves the test page at `/page` on loopback (the test hosts are this machine, so they see it)
/// and returns its URL.
pub async fn serve_page() -> String {
    let app = axum::Router::new().route(
        "/page",
        axum::routing::get(|| async { axum::response::Html(PAGE) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}/page")
}

/// Checks a capture of the test page: whole (1280×2800), both blocks where they belong.
pub fn assert_is_the_test_page(png: &[u8]) {
    let pixels = Pixels::decode(png);
    assert_eq!((pixels.width, pixels.height), (1280, 2800));
    assert_eq!(pixels.count(GREEN, (0, 0), (300, 200)), 300 * 200);
    assert_eq!(pixels.count(BLUE, (0, 2600), (300, 200)), 300 * 200);
    assert_eq!(pixels.at(640, 1400), [0xff, 0xff, 0xff]);
}
