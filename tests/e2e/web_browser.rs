//! The web console in a real headless Chromium: sign in with the printed link, start a session
//! on the sshd host, send a prompt, watch its progress arrive live, read the answer and the diff,
//! stop a long turn, look at the hosts, sign out. Each page is kept as a screenshot (test
//! artifacts) and checked.

use switchboard::domain::ids::SessionId;

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
    assert_eq!(added, "+hello");
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

    // The model, chosen on the page behind its Change link, is the session's.
    browser
        .eval("document.getElementById('choose').click()")
        .await;
    browser
        .wait_for("!!document.getElementById('model-name')", "the model field")
        .await;
    browser
        .eval(
            "(() => { document.getElementById('model-name').value = 'claude-opus-4-5'; \
             document.getElementById('model-set').click(); return true; })()",
        )
        .await;
    browser
        .wait_for(
            "document.getElementById('session-agent')?.textContent === 'claude · claude-opus-4-5'",
            "the session's new model",
        )
        .await;
    browser
        .eval("document.getElementById('choose').click()")
        .await;

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
    ask_to_stop(&mut browser).await;
    confirm_stop(&mut browser).await;
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

/// A phone's viewport (CSS pixels).
const PHONE: (u32, u32) = (390, 844);

/// Clicks Stop and waits for its question (Stop asks before it cancels anything).
async fn ask_to_stop(browser: &mut Browser) {
    browser
        .eval("document.getElementById('stop').click()")
        .await;
    browser
        .wait_for("!!document.getElementById('stop-confirm')", "the question")
        .await;
}

/// Answers Stop's question yes and waits until the turn shows it was cancelled.
async fn confirm_stop(browser: &mut Browser) {
    browser
        .eval("document.getElementById('stop-confirm').click()")
        .await;
    browser
        .wait_for(
            "[...document.querySelectorAll('.turn .state')].some(e => e.textContent === 'cancelled')",
            "the stopped turn",
        )
        .await;
}

/// Fails unless the page fits its viewport's width: nothing scrolls sideways.
async fn assert_fits(browser: &mut Browser, what: &str) {
    let overflow = browser
        .eval("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        .await;
    assert!(
        overflow.as_i64().is_some_and(|o| o <= 0),
        "{what} is {overflow} px wider than the screen"
    );
}

/// The console on a phone, and what issue 12 (item 9) found in it: the page fits 390 px
/// (header, sessions, a session with its diff, hosts); a session is named by its first prompt
/// and the random end of its id; progress shows its code as code, not as Markdown; copying the
/// diff gives the patch once; Stop asks before it interrupts the agent; the icon is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_fits_a_phone_and_shows_sessions_progress_and_diffs_as_meant() {
    let t = Harness::start(Db::Sqlite).await;
    t.wait_for_http().await;
    let mut browser = Browser::start().await;
    browser.viewport(PHONE.0, PHONE.1, true).await;
    browser
        .goto(&format!("{}/#token={WEB_ADMIN_TOKEN}", t.web_url()))
        .await;
    browser
        .wait_for(
            "!!document.getElementById('new-session')",
            "the sessions page",
        )
        .await;
    let icon = browser
        .eval("fetch('/favicon.ico').then(r => r.ok && r.headers.get('content-type'))")
        .await;
    assert_eq!(icon, "image/x-icon");

    browser
        .eval("document.getElementById('new-session').click()")
        .await;
    browser
        .wait_for("!!document.getElementById('prompt')", "the composer")
        .await;
    assert_eq!(
        browser
            .eval("document.querySelector('h1').textContent")
            .await,
        "New session"
    );
    browser
        .eval(
            "(() => { document.getElementById('prompt').value = \
             '@fake tool-sleep 3\\n@fake write a.txt one\\\\ntwo\\\\nthree\\nthree lines'; \
             document.getElementById('send').click(); return true; })()",
        )
        .await;
    let code = browser
        .wait_for(
            "document.querySelector('.activity code')?.textContent",
            "the activity's code",
        )
        .await;
    assert_eq!(code, "Bash");
    let activity = browser
        .eval("document.querySelector('.activity').textContent")
        .await;
    assert!(
        !activity.as_str().unwrap().contains('`'),
        "no Markdown shows: {activity}"
    );
    assert_fits(&mut browser, "a running session").await;
    assert_is_a_phone_page(&browser.screenshot("phone-running").await);

    browser
        .wait_for(
            "document.querySelector('.answer')?.textContent.includes('Echo #1: three lines')",
            "the answer",
        )
        .await;
    let title = "@fake tool-sleep 3 @fake write a.txt one\\ntwo\\nthree three lines";
    assert_eq!(
        browser
            .eval("document.querySelector('h1').textContent")
            .await,
        title
    );
    let id = browser.eval("location.hash.slice(4)").await;
    let id = id.as_str().unwrap().to_owned();
    // What a copy of the diff gives: the text of a selection of it, and the diff's text as
    // rendered (`innerText`, which block-level lines ending in a line break made double).
    let copied = browser
        .eval(
            "(() => { const pre = document.querySelector('pre.diff'); \
             const range = document.createRange(); range.selectNodeContents(pre); \
             const selection = getSelection(); selection.removeAllRanges(); \
             selection.addRange(range); return [pre.innerText, selection.toString()]; })()",
        )
        .await;
    let patch = browser
        .eval(&format!(
            "fetch('/api/sessions/{id}').then(r => r.json()).then(d => d.turns[0].patch)"
        ))
        .await;
    assert!(
        patch.as_str().unwrap().contains("+one\n+two\n+three"),
        "{patch}"
    );
    // Every line once; like any browser's, a selection's text ends without a line break.
    for text in copied.as_array().unwrap() {
        assert_eq!(
            format!("{}\n", text.as_str().unwrap()),
            patch.as_str().unwrap(),
            "a copy of the diff is the patch, once"
        );
    }
    assert_fits(&mut browser, "an answered session").await;
    assert_is_a_phone_page(&browser.screenshot("phone-answered").await);

    browser.eval("location.hash = '#/'").await;
    let listed = browser
        .wait_for(
            "document.querySelector('td.title a')?.textContent",
            "the session in the list",
        )
        .await;
    assert_eq!(listed, title);
    let shown = browser
        .eval("document.querySelector('td.title code').textContent")
        .await;
    assert_eq!(shown.as_str().unwrap(), &id[id.len() - 8..]);
    assert_fits(&mut browser, "the sessions page").await;
    assert_is_a_phone_page(&browser.screenshot("phone-sessions").await);
    browser.eval("location.hash = '#/hosts'").await;
    browser
        .wait_for("document.querySelectorAll('.host.up').length", "the hosts")
        .await;
    assert_fits(&mut browser, "the hosts page").await;

    // Stop asks first; keeping the turn running leaves it running.
    browser.eval(&format!("location.hash = '#/s/{id}'")).await;
    browser
        .wait_for("!!document.getElementById('send')", "the session")
        .await;
    browser
        .eval(
            "(() => { document.getElementById('prompt').value = '@fake tool-sleep 60\\nlong'; \
             document.getElementById('send').click(); return true; })()",
        )
        .await;
    browser
        .wait_for("!!document.getElementById('stop')", "the stop button")
        .await;
    ask_to_stop(&mut browser).await;
    assert_eq!(
        browser.eval("document.activeElement.id").await,
        "stop-keep",
        "the safe answer has the focus"
    );
    browser
        .eval("document.getElementById('stop-keep').click()")
        .await;
    browser
        .wait_for(
            "!document.getElementById('stop-confirm') && !!document.getElementById('stop')",
            "the stop button again",
        )
        .await;
    let store = t.store().await;
    let turns = store
        .session_turns(&SessionId::from_string(id.clone()))
        .await
        .unwrap();
    let last = turns.last().expect("the long turn");
    assert_eq!(
        (last.cancel_reason.as_deref(), last.finished_at),
        (None, None),
        "nothing was stopped"
    );
    store.close().await;
    ask_to_stop(&mut browser).await;
    assert_is_a_phone_page(&browser.screenshot("phone-stop").await);
    confirm_stop(&mut browser).await;
}

/// A phone screenshot is the phone's size and not blank.
fn assert_is_a_phone_page(png: &[u8]) {
    let pixels = Pixels::decode(png);
    assert_eq!((pixels.width, pixels.height), PHONE);
    let background = pixels.at(PHONE.0 - 1, PHONE.1 - 1);
    let drawn = PHONE.0 * PHONE.1 - pixels.count(background, (0, 0), PHONE);
    assert!(drawn > 2_000, "the page looks blank ({drawn} pixels drawn)");
}

/// The Open PR button of a project session (issue 14): clicking it runs `/pr` and shows its
/// reply as a notice; then the session names its pull request and the button updates it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_open_pr_button_shows_the_pull_request_it_opened() {
    let mut t = crate::workspaces::prepare(Db::Sqlite).await;
    let repo = crate::workspaces::private_repo(crate::workspaces::gh(&t), "acme", "web");
    crate::workspaces::add_config(&t, "\n[projects.web]\nrepo = \"acme/web\"\n");
    t.start_bot().await;
    t.wait_for_http().await;
    let mut browser = Browser::start().await;
    browser
        .goto(&format!("{}/#token={WEB_ADMIN_TOKEN}", t.web_url()))
        .await;
    browser
        .wait_for(
            "!!document.getElementById('new-session')",
            "the sessions page",
        )
        .await;
    browser
        .eval("document.getElementById('new-session').click()")
        .await;
    let label = browser
        .wait_for(
            "document.getElementById('pr')?.textContent",
            "the Open PR button",
        )
        .await;
    assert_eq!(label, "Open PR");
    browser
        .eval(
            "(() => { const p = document.getElementById('prompt'); \
             p.value = 'add the feature\\n@fake write feature.txt new'; \
             document.getElementById('send').click(); return true; })()",
        )
        .await;
    browser
        .wait_for(
            "document.querySelector('.answer')?.textContent.includes('Echo #1')",
            "the answer",
        )
        .await;
    browser.eval("document.getElementById('pr').click()").await;
    let shown = browser
        .wait_for(
            "document.querySelector('.notice.info')?.textContent.includes('opened pull request #') \
             && document.querySelector('.notice.info').textContent",
            "the reply as a notice",
        )
        .await;
    let prs = crate::workspaces::gh(&t).pull_requests(&repo);
    assert_eq!(prs.len(), 1, "{prs:#?}");
    assert!(
        shown
            .as_str()
            .unwrap()
            .contains(&format!("pull request #{}", prs[0].number)),
        "{shown}"
    );
    let link = browser
        .wait_for(
            "document.getElementById('pr')?.textContent === 'Update PR' \
             && document.getElementById('pr-link')?.textContent",
            "the pull request's link",
        )
        .await;
    assert_eq!(link, format!("pull request #{}", prs[0].number));
    assert_is_a_page(&browser.screenshot("session-pr").await, "session-pr");
}
