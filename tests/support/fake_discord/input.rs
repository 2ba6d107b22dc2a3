//! Request bodies as Discord takes them: JSON, or `multipart/form-data`
//! with a `payload_json` part and `files[n]` parts (the upload limit is
//! checked on the files' total size, with Discord's 413 / 40005).

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use serde_json::Value;

use super::reply::Reply;

/// Larger than any request the fake accepts; the upload limit is checked
/// separately so it can answer Discord's error.
pub(super) const MAX_BODY: usize = 256 * 1024 * 1024;

#[derive(Debug, Clone)]
pub(super) struct Upload {
    /// The part's name: `files[0]`, `file`, …
    pub field: String,
    pub filename: String,
    pub content_type: Option<String>,
    pub bytes: Bytes,
}

#[derive(Debug)]
pub(super) enum Body {
    Empty,
    Json(Value),
    Multipart { payload: Value, files: Vec<Upload> },
    Invalid(Reply),
}

impl Body {
    /// The JSON part (`payload_json` for multipart); `Null` when empty.
    pub fn json(&self) -> Value {
        match self {
            Self::Json(v) | Self::Multipart { payload: v, .. } => v.clone(),
            Self::Empty | Self::Invalid(_) => Value::Null,
        }
    }

    pub fn files(&self) -> &[Upload] {
        match self {
            Self::Multipart { files, .. } => files,
            _ => &[],
        }
    }
}

pub(super) async fn read(req: Request, max_upload: usize) -> Body {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if multipart {
        return read_multipart(req, max_upload).await;
    }
    let Ok(bytes) = axum::body::to_bytes(req.into_body(), MAX_BODY).await else {
        return Body::Invalid(Reply::too_large());
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Body::Empty;
    }
    match serde_json::from_slice(&bytes) {
        Ok(v) => Body::Json(v),
        Err(_) => Body::Invalid(Reply::invalid_json()),
    }
}

async fn read_multipart(req: Request, max_upload: usize) -> Body {
    let Ok(mut form) = Multipart::from_request(req, &()).await else {
        return Body::Invalid(Reply::invalid_json());
    };
    let mut payload = Value::Null;
    let mut files = Vec::new();
    let mut total = 0usize;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => return Body::Invalid(Reply::invalid_json()),
        };
        let name = field.name().unwrap_or_default().to_string();
        let filename = field.file_name().map(str::to_string);
        let content_type = field.content_type().map(str::to_string);
        let Ok(bytes) = field.bytes().await else {
            return Body::Invalid(Reply::invalid_json());
        };
        if name == "payload_json" {
            match serde_json::from_slice(&bytes) {
                Ok(v) => payload = v,
                Err(_) => return Body::Invalid(Reply::invalid_json()),
            }
        } else if let Some(filename) = filename {
            total += bytes.len();
            if total > max_upload {
                return Body::Invalid(Reply::too_large());
            }
            files.push(Upload {
                field: name,
                filename,
                content_type,
                bytes,
            });
        }
    }
    Body::Multipart { payload, files }
}
