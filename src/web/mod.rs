//! The web console: `switchboard serve` serves it on `http.listen`, so a fresh machine with no
//! chat platform configured is still useful.
//!
//! It is a front end like Telegram — a prompt sent from the page is an inbound event through the
//! same router, queue and turn driver (DESIGN's invariants hold unchanged) — and a dashboard of
//! every platform's sessions. Pages are one embedded script that renders JSON from [`api`] and
//! refreshes on [`events`]; [`auth`] decides who is asking before anything else runs.

mod api;
mod assets;
pub mod auth;
mod events;
mod view;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::core::Core;

/// What every console request needs.
pub struct Console {
    pub core: Arc<Core>,
    pub auth: auth::Auth,
}

/// The console's routes.
pub fn routes(console: Arc<Console>) -> Router {
    Router::new()
        .route("/", get(assets::index))
        .route("/assets/app.js", get(assets::script))
        .route("/assets/app.css", get(assets::style))
        .route("/favicon.ico", get(assets::icon))
        .route("/api/login", post(api::sign_in))
        .route("/api/logout", post(api::sign_out))
        .route("/api/me", get(api::whoami))
        .route(
            "/api/sessions",
            get(api::list_sessions).post(api::create_session),
        )
        .route("/api/sessions/{id}", get(api::show_session))
        .route("/api/sessions/{id}/prompts", post(api::send_prompt))
        .route("/api/sessions/{id}/stop", post(api::stop_turn))
        .route("/api/sessions/{id}/cancel", post(api::cancel_queued))
        .route("/api/sessions/{id}/screenshot", post(api::take_screenshot))
        .route("/api/sessions/{id}/pr", post(api::pull_request))
        .route("/api/sessions/{id}/agent", post(api::switch_agent))
        .route("/api/sessions/{id}/model", post(api::switch_model))
        .route("/api/agents/{name}", get(api::agent))
        .route("/api/hosts", get(api::hosts))
        .route("/api/projects", get(api::projects))
        .route("/api/files/{key}/{index}", get(api::post_file))
        .route("/api/events", get(events::stream))
        .layer(axum::middleware::map_response(assets::secure))
        .with_state(console)
}
