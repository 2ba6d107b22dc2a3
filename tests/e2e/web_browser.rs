//! The web console in a real headless Chromium: sign in with the printed link, start a session
//! on the sshd host, send a prompt, watch its progress arrive live, read the answer and the diff,
//! stop a long turn, look at the hosts, sign out. Each page is kept as a screenshot (test
//! artifacts) and checked.

use crate::support::browser::{Browser, VIEWPORT};
use crate::support::db::Db;
use crate::support::harness::{Harness, WEB_ADMIN_TOKEN};
use crate::support::screens::{GREEN, Pixels, serve_page};

/// The light theme's background of an added diff line (`--add`).
const ADDED_LINE: [u8; 3] = [0xe6, 0xff, 0xec];

/// A screenshot is the viewport's size and not blank.
fn assert_is_a_page(png: &[u8], name: &str) -> Pixels {
    let pixels = Pixels::decode(png);
    assert_eq!((pixels.width, pixels.height), VIEWPORT, "{name}");
    let background = pixels.at(VIEWPORT.0 - 1, VIEWPORT.1 - 1);
    let (w, h) = VIEWPORT;
    let drawn = (w * h) - pixels.count(background, (0, 0), (w, h));
    assert!(drawn > 2_000, "{name} looks blank ({drawn} pixels drawn)");
    pixels
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_is_driven_from_the_browser() {
    let t = Harness::start(Db::Sqlite).await;
    t.wait_for_http().await;
    let mut browser = Browser::start().await;

    // The printed sign-in link: the token rides in the fragment and is dropped from the URL.
    browser
        .goto(&format!("{}/#token={WEB_ADMIN_TOKEN}", t.web_url()))
        .await;
    browser
        .wait_for(
            "document.querySelector('h1')?.textContent === 'Sessions' && !!document.getElementById('new-session')",
            "the sessions page",
        )
        .await;
    assert_eq!(browser.eval("location.hash").await, "");
    let who = browser
        .eval("document.getElementById('who').textContent")
        .await;
    assert_eq!(who, "admin (admin)");
    assert_is_a_page(&browser.screenshot("sessions").await, "sessions");

    browser
        .eval("document.getElementById('new-session').click()")
        .await;
    browser
        .wait_for("!!document.getElementById('prompt')", "the composer")
        .await;
    // Typed and sent from the keyboard (Ctrl+Enter).
    browser
        .eval("document.getElementById('prompt').focus()")
        .await;
    browser
        .type_text("@fake tool-sleep 3\n@fake write a.txt hello\nhello there")
        .await;
    browser.ctrl_enter().await;
    // Progress arrives while the turn runs, pushed by the server.
    let activity = browser
        .wait_for(
            "document.querySelector('.activity')?.textContent",
            "the running turn's activity",
        )
        .await;
    assert!(activity.as_str().unwrap().starts_with("⏳"), "{activity}");
    assert_is_a_page(
        &browser.screenshot("session-running").await,
        "session-running",
    );

    browser
        .wait_for(
            "document.querySelector('.answer')?.textContent.includes('Echo #1: hello there')",
            "the answer",
        )
        .await;
    let added = browser
        .eval("[...document.querySelectorAll('pre.diff .add')].map(e => e.textContent).join('')")
        .await;
    assert_eq!(added, "+hello\n");
    let tools = browser
        .eval("document.querySelector('.tools summary').textContent")
        .await;
    assert_eq!(tools, "2 tool calls");
    let page = assert_is_a_page(
        &browser.screenshot("session-answered").await,
        "session-answered",
    );
    let (w, h) = VIEWPORT;
    assert!(
        page.count(ADDED_LINE, (0, 0), (w, h)) > 500,
        "the added line is drawn as a diff"
    );

    // A screenshot of a page as the host sees it, shown inline.
    let page_url = serve_page().await;
    browser
        .eval(&format!(
            "(() => {{ document.getElementById('shot-url').value = '{page_url}'; \
             document.getElementById('shoot').click(); return true; }})()"
        ))
        .await;
    let width = browser
        .wait_for(
            "(() => { const i = document.querySelector('.note img'); return i && i.complete && i.naturalWidth; })()",
            "the screenshot",
        )
        .await;
    assert_eq!(width, 1280);
    browser
        .eval("document.querySelector('.note img').scrollIntoView({block: 'start'})")
        .await;
    let with_shot = assert_is_a_page(
        &browser.screenshot("session-screenshot").await,
        "session-screenshot",
    );
    assert!(
        with_shot.count(GREEN, (0, 0), (w, h)) > 1_000,
        "the page's green block shows in the console"
    );

    // A long turn, stopped from the page.
    browser
        .eval(
            "(() => { const p = document.getElementById('prompt'); \
             p.value = '@fake tool-sleep 60\\nsomething long'; \
             document.getElementById('send').click(); return true; })()",
        )
        .await;
    // Stop once the agent is at work (its tool call shows as the turn's activity): the button
    // shows while the turn is still starting too, and a turn stopped then never reaches the
    // agent — on a loaded machine the click landed there and the agent ran once, not twice.
    browser
        .wait_for(
            "[...document.querySelectorAll('.turn')].pop()?.querySelector('.activity')?.textContent \
             && !!document.getElementById('stop')",
            "the long turn's agent at work, and the stop button",
        )
        .await;
    browser
        .eval("document.getElementById('stop').click()")
        .await;
    browser
        .wait_for(
            "[...document.querySelectorAll('.turn .state')].some(e => e.textContent === 'cancelled')",
            "the stopped turn",
        )
        .await;
    assert_eq!(t.agent_runs().len(), 2);
    browser
        .eval("[...document.querySelectorAll('.turn')].pop().scrollIntoView({block: 'start'})")
        .await;
    assert_is_a_page(
        &browser.screenshot("session-stopped").await,
        "session-stopped",
    );

    // The dark theme follows the system's preference.
    browser.prefer_dark(true).await;
    let dark = Pixels::decode(&browser.screenshot("session-dark").await);
    let background = dark.at(VIEWPORT.0 - 2, VIEWPORT.1 / 2);
    assert!(
        background.iter().all(|&c| c < 0x30),
        "a dark background: {background:?}"
    );
    browser.prefer_dark(false).await;

    browser.eval("location.hash = '#/hosts'").await;
    let up = browser
        .wait_for(
            "document.querySelectorAll('.host.up').length",
            "the hosts' health",
        )
        .await;
    assert_eq!(up, 2, "local and the sshd host");
    assert_is_a_page(&browser.screenshot("hosts").await, "hosts");

    browser
        .eval("document.getElementById('logout').click()")
        .await;
    browser
        .wait_for("!!document.getElementById('token')", "the sign-in form")
        .await;
    assert_is_a_page(&browser.screenshot("signed-out").await, "signed-out");
}
