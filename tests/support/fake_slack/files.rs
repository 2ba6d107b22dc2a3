//! File uploads the way Slack wants them since `files.upload` was retired:
//! 1. `files.getUploadURLExternal` (`filename`, `length`, optional `alt_txt`,
//!    `snippet_type`) answers `upload_url` and `file_id`;
//! 2. the bytes are POSTed to `upload_url`, raw or as `multipart/form-data`
//!    (Slack accepts both), answered `200` `OK - <bytes received>`;
//! 3. `files.completeUploadExternal` (`files` = `[{"id","title"}]`, a JSON
//!    array or its text in a form body; optional `channel_id` or `channels`,
//!    `thread_ts`, `initial_comment`) finishes it; with a channel, the file
//!    is shared there as a message by the bot carrying `files`.
//!
//! Errors modelled: missing `filename`/`length` or a non-positive `length` is
//! `invalid_arguments` (with Slack's `[ERROR] …` message), `alt_txt` over
//! 1,000 characters is `alt_txt_too_large`, an unknown or already completed
//! id, or one whose bytes never arrived, is `file_not_found`. Slack does not
//! document what a length mismatch earns; the fake refuses it at completion
//! with `invalid_arguments` and a message naming both sizes, so a bot that
//! declares the wrong length fails loudly here.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;

use super::events;
use super::json;
use super::methods::Ctx;
use super::reply::{ApiError, Reply, fields};
use super::state::{MessageRec, Shared};
use super::types::SharedFile;

pub(super) fn get_upload_url(cx: &mut Ctx<'_>) -> Reply {
    let filename =
        cx.p.string("filename")
            .ok_or_else(|| ApiError::invalid_arguments("missing required field: filename"))?;
    let length = match cx.p.u64("length") {
        Some(n) if n > 0 => n,
        Some(_) => return Err(ApiError::invalid_arguments("length must be greater than 0")),
        None => {
            return Err(ApiError::invalid_arguments(
                "missing required field: length",
            ));
        }
    };
    let alt_txt = cx.p.string("alt_txt");
    if alt_txt.as_ref().is_some_and(|a| a.chars().count() > 1000) {
        return Err(ApiError::new("alt_txt_too_large"));
    }
    let id = cx.st.next_id("F");
    cx.st.files.insert(
        id.clone(),
        SharedFile {
            id: id.clone(),
            filename,
            title: None,
            declared_length: length,
            bytes: None,
            alt_txt,
            snippet_type: cx.p.string("snippet_type"),
            channel: None,
            thread_ts: None,
            initial_comment: None,
            message_ts: None,
            completed: false,
        },
    );
    Ok(fields(json!({
        "upload_url": format!("{}/upload/{id}", cx.sh.base_url),
        "file_id": id,
    })))
}

/// `POST /upload/{file_id}`: the bytes, raw or in a multipart form.
pub(super) async fn upload(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let bytes = if multipart {
        match first_file(req).await {
            Some(b) => b,
            None => return (StatusCode::BAD_REQUEST, "no file in the form").into_response(),
        }
    } else {
        match Bytes::from_request(req, &()).await {
            Ok(b) => b,
            Err(e) => return e.into_response(),
        }
    };
    let len = bytes.len();
    {
        let mut st = sh.lock();
        match st.files.get_mut(&id) {
            Some(f) if !f.completed => f.bytes = Some(bytes),
            _ => return (StatusCode::NOT_FOUND, "Not Found").into_response(),
        }
    }
    sh.notify_changed();
    (StatusCode::OK, format!("OK - {len}")).into_response()
}

/// The form field carrying a file (named `file`, or any with a file name),
/// else the first field.
async fn first_file(req: Request) -> Option<Bytes> {
    let mut form = Multipart::from_request(req, &()).await.ok()?;
    let mut fallback = None;
    while let Ok(Some(field)) = form.next_field().await {
        let is_file = field.name() == Some("file") || field.file_name().is_some();
        let data = field.bytes().await.ok()?;
        if is_file {
            return Some(data);
        }
        fallback.get_or_insert(data);
    }
    fallback
}

pub(super) fn complete(cx: &mut Ctx<'_>) -> Reply {
    let listed = match cx.p.json("files") {
        Ok(Some(Value::Array(a))) if !a.is_empty() => a,
        _ => return Err(ApiError::invalid_arguments("missing required field: files")),
    };
    let mut ids = Vec::new();
    for entry in &listed {
        let id = entry["id"].as_str().unwrap_or_default().to_string();
        let f = match cx.st.files.get(&id) {
            Some(f) if !f.completed && f.bytes.is_some() => f,
            _ => return Err(ApiError::new("file_not_found")),
        };
        let got = f.bytes.as_ref().map_or(0, |b| b.len() as u64);
        if got != f.declared_length {
            return Err(ApiError::invalid_arguments(&format!(
                "file {id}: uploaded {got} bytes, declared length {}",
                f.declared_length
            )));
        }
        ids.push((id, entry["title"].as_str().map(str::to_string)));
    }
    // `channel_id`, or the first of the comma-separated `channels`.
    let channel_arg = cx.p.string("channel_id").or_else(|| {
        cx.p.string("channels")
            .and_then(|c| c.split(',').next().map(str::to_string))
    });
    let channel = match channel_arg {
        Some(id) => Some(cx.channel_id(id, true)?),
        None => None,
    };
    let thread_ts = cx.thread_ts()?;
    let comment = cx.p.string("initial_comment");
    let message_ts = channel.as_ref().map(|_| cx.st.next_ts(cx.now));
    for (id, title) in &ids {
        let f = cx.st.files.get_mut(id).expect("checked");
        f.completed = true;
        f.title = title.clone().or_else(|| Some(f.filename.clone()));
        f.channel = channel.clone();
        f.thread_ts = thread_ts.clone();
        f.initial_comment = comment.clone();
        f.message_ts = message_ts.clone();
    }
    let bot = cx.bot();
    if let (Some(channel), Some(ts)) = (&channel, &message_ts) {
        let mut rec = MessageRec::new(
            ts.clone(),
            Some(bot.clone()),
            comment.as_deref().unwrap_or(""),
            cx.now,
        );
        rec.bot_id = Some(cx.sh.config.bot_id.clone());
        rec.app_id = Some(cx.sh.config.app_id.clone());
        rec.thread_ts = thread_ts;
        rec.files = ids.iter().map(|(id, _)| id.clone()).collect();
        cx.st.insert_message(channel, rec);
        let items = events::for_new_message(cx.sh, cx.st, channel, ts);
        cx.deliver(items);
    }
    let at = message_ts.unwrap_or_else(|| cx.st.next_ts(cx.now));
    let files: Vec<Value> = ids
        .iter()
        .map(|(id, _)| json::file(&cx.sh.config, &cx.st.files_url, &cx.st.files[id], &bot, &at))
        .collect();
    Ok(fields(json!({ "files": files })))
}

/// `GET /files-pri/<team>-<file id>/<name>`: a file's bytes, for a request bearing a token of
/// the workspace (Slack answers others with a sign-in page; the fake with 403).
pub(super) async fn download(
    State(sh): State<Arc<Shared>>,
    Path((key, _name)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer != Some(sh.config.bot_token.as_str()) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let st = sh.lock();
    let file = key
        .split_once('-')
        .and_then(|(_, id)| st.files.get(id))
        .and_then(|f| f.bytes.clone());
    match file {
        Some(bytes) => (StatusCode::OK, bytes).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
