//! Live updates for the console's pages: one server-sent event stream per open page, which says
//! `changed` whenever the bot has something new to show (a queued prompt's acknowledgement, a
//! turn's progress, an answer — everything that reaches the outbox), bursts folded into one.
//! The page then fetches what it shows again; it never polls.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use futures_util::stream;

use super::Console;

/// Changes closer together than this are one event.
const COALESCE: Duration = Duration::from_millis(200);

pub async fn stream(State(console): State<Arc<Console>>, headers: HeaderMap) -> Response {
    if let Err(refused) = super::api::viewer(&console, &headers).await {
        return refused;
    }
    let changes = console.core.watch_outbox();
    let ready =
        stream::once(async { Ok::<_, Infallible>(Event::default().event("ready").data("{}")) });
    let changed = stream::unfold(changes, |mut changes| async move {
        changes.changed().await.ok()?;
        tokio::time::sleep(COALESCE).await;
        changes.borrow_and_update();
        Some((Ok(Event::default().event("changed").data("{}")), changes))
    });
    Sse::new(ready.chain(changed))
        .keep_alive(KeepAlive::default())
        .into_response()
}
