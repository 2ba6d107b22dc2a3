//! Files users send, as a bot fetches them: `getFile` turns a `file_id` into a `file_path`,
//! and `GET /file/bot<TOKEN>/<file_path>` returns the bytes — Telegram's two steps. Like the
//! Bot API, `getFile` refuses files over 20 MB ("file is too big").

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::methods::{ApiError, Cx, Reply};
use super::params::Params;
use super::state::{Shared, StoredFile};

/// The largest file a bot may download through the Bot API.
pub(super) const MAX_DOWNLOAD: usize = 20 * 1024 * 1024;

pub(super) fn get_file(cx: &mut Cx<'_>, p: &Params) -> Reply {
    let id = p
        .string("file_id")?
        .filter(|id| !id.is_empty())
        .ok_or_else(|| ApiError::bad_request("file_id is empty"))?;
    let file = cx
        .st
        .files
        .get(&id)
        .ok_or_else(|| ApiError::bad_request("invalid file_id"))?;
    if file.bytes.len() > MAX_DOWNLOAD {
        return Err(ApiError::bad_request("file is too big"));
    }
    Ok(json!({
        "file_id": file.file_id,
        "file_unique_id": file.file_unique_id,
        "file_size": file.bytes.len(),
        "file_path": file_path(file),
    })
    .into())
}

/// Where a file is downloaded from: `photos/file_<id>.jpg`, `documents/file_<id>.pdf`.
fn file_path(file: &StoredFile) -> String {
    let folder = if file.dimensions.is_some() {
        "photos"
    } else {
        "documents"
    };
    let extension = file
        .file_name
        .rsplit_once('.')
        .map_or("", |(_, e)| e)
        .to_ascii_lowercase();
    format!("{folder}/file_{}.{extension}", file.file_unique_id)
}

/// `GET /file/bot<TOKEN>/<file_path>`.
pub(super) async fn download(
    State(shared): State<Arc<Shared>>,
    Path((bot_token, path)): Path<(String, String)>,
) -> Response {
    if bot_token.strip_prefix("bot") != Some(shared.config.token.as_str()) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let st = shared.lock();
    match st.files.values().find(|f| file_path(f) == path) {
        Some(file) => (StatusCode::OK, Body::from(file.bytes.clone())).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
