//! The HTTP face: `/bot<TOKEN>/<method>` like api.telegram.org, any HTTP
//! method, any parameter encoding, and Telegram's response envelope:
//! `{"ok":true,"result":…}` or `{"ok":false,"error_code":N,"description":…}`
//! with the same N as the HTTP status, plus `"parameters":{"retry_after":S}`
//! on 429. A wrong token is 401 `Unauthorized`; an unknown method or path is
//! 404 `Not Found`, as on Telegram (a method the fake does not implement is
//! therefore an error the bot sees, never a silent success).

use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Value, json};

use super::connections::ConnectionTag;
use super::files;
use super::methods::{self, ApiError, Method, Reply};
use super::params::Params;
use super::state::Shared;

/// Telegram accepts uploads up to 50 MB through the Bot API.
const MAX_UPLOAD: usize = 50 * 1024 * 1024;

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/{bot_token}/{method}", any(handle))
        .route("/file/{bot_token}/{*path}", get(files::download))
        .fallback(|| async { envelope(Err(ApiError::not_found())) })
        .layer(DefaultBodyLimit::max(MAX_UPLOAD))
        .with_state(shared)
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(connection): ConnectInfo<ConnectionTag>,
    Path((bot_token, method_name)): Path<(String, String)>,
    req: Request,
) -> Response {
    let Some(token) = bot_token.strip_prefix("bot") else {
        return envelope(Err(ApiError::not_found()));
    };
    let method = Method::parse(&method_name);
    let early_error = if token != shared.config.token {
        Some(ApiError::unauthorized())
    } else if method.is_none() {
        Some(ApiError::not_found())
    } else {
        None
    };
    let params = match early_error {
        Some(e) => Err(e),
        None => Params::from_request(req).await,
    };
    let (method, params) = match (method, params) {
        (Some(method), Ok(params)) => (method, params),
        (method, Err(e)) => {
            let name = method.map_or_else(|| method_name.clone(), |m| m.name().to_string());
            let (_, at) = shared.clock.now();
            let call = (name.as_str(), connection.serial);
            methods::record_call(&mut shared.lock(), call, None, at, Err((&e, None)));
            shared.notify_changed();
            return envelope(Err(e));
        }
        (None, Ok(_)) => unreachable!("an unknown method is an early error"),
    };
    envelope(methods::call(&shared, method, params, connection.serial).await)
}

fn envelope(reply: Reply) -> Response {
    match reply {
        Ok(success) => {
            let mut body = json!({ "ok": true, "result": success.result });
            if let Some(description) = success.description {
                body["description"] = Value::from(description);
            }
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        Err(e) => {
            let mut body = json!({
                "ok": false,
                "error_code": e.code,
                "description": e.description,
            });
            if let Some(retry_after) = e.retry_after {
                body["parameters"] = json!({ "retry_after": retry_after });
            }
            let status = StatusCode::from_u16(e.code).unwrap_or(StatusCode::BAD_REQUEST);
            (status, axum::Json(body)).into_response()
        }
    }
}
