//! Request parameters, however they were sent.
//!
//! The Bot API accepts the query string, `application/x-www-form-urlencoded`,
//! `application/json` and `multipart/form-data`, and so does the fake. In the
//! form encodings every value is a string and structured values
//! (`reply_parameters`, `commands`, …) are JSON text; in a JSON body they are
//! JSON. The accessors below accept both, as Telegram does. Files come in
//! multipart parts, either under the parameter's own name or, as teloxide
//! sends them, under any name referenced as `attach://<name>`.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{FromRequest, Multipart, Query, Request};
use axum::http::header::CONTENT_TYPE;
use bytes::Bytes;
use serde_json::{Map, Value};

use super::methods::ApiError;

/// A file part of a multipart request.
#[derive(Debug, Clone)]
pub(super) struct Upload {
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Bytes,
}

/// A file parameter: uploaded now, or a `file_id`/URL string.
pub(super) enum FileParam {
    Upload(Upload),
    Reference(String),
}

#[derive(Debug, Default)]
pub(super) struct Params {
    fields: Map<String, Value>,
    files: HashMap<String, Upload>,
}

impl Params {
    pub async fn from_request(req: Request) -> Result<Self, ApiError> {
        let mut params = Self::default();
        let bad_form = |e: &dyn std::fmt::Display| {
            ApiError::bad_request(&format!("can't parse parameters: {e}"))
        };
        let Query(query) =
            Query::<Vec<(String, String)>>::try_from_uri(req.uri()).map_err(|e| bad_form(&e))?;
        for (k, v) in query {
            params.fields.insert(k, Value::String(v));
        }
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if content_type.starts_with("multipart/form-data") {
            let mut multipart = Multipart::from_request(req, &())
                .await
                .map_err(|e| ApiError::bad_request(&format!("can't parse multipart: {e}")))?;
            while let Some(field) = multipart
                .next_field()
                .await
                .map_err(|e| ApiError::bad_request(&format!("can't parse multipart: {e}")))?
            {
                let name = field.name().unwrap_or_default().to_string();
                let file_name = field.file_name().map(str::to_string);
                let part_type = field.content_type().map(str::to_string);
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| ApiError::bad_request(&format!("can't parse multipart: {e}")))?;
                if file_name.is_some() {
                    params.files.insert(
                        name,
                        Upload {
                            file_name,
                            content_type: part_type,
                            bytes,
                        },
                    );
                } else {
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    params.fields.insert(name, Value::String(text));
                }
            }
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            let Form(pairs) = Form::<Vec<(String, String)>>::from_request(req, &())
                .await
                .map_err(|e| bad_form(&e))?;
            for (k, v) in pairs {
                params.fields.insert(k, Value::String(v));
            }
        } else {
            let body = axum::body::to_bytes(req.into_body(), usize::MAX)
                .await
                .map_err(|_| ApiError::bad_request("can't read the request body"))?;
            if content_type.starts_with("application/json") && !body.is_empty() {
                match serde_json::from_slice::<Value>(&body) {
                    Ok(Value::Object(map)) => params.fields.extend(map),
                    _ => return Err(ApiError::bad_request("can't parse JSON body")),
                }
            }
        }
        Ok(params)
    }

    fn raw(&self, name: &str) -> Option<&Value> {
        self.fields.get(name).filter(|v| !v.is_null())
    }

    fn wrong_type(name: &str, expected: &str) -> ApiError {
        ApiError::bad_request(&format!("field \"{name}\" must be of type {expected}"))
    }

    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| Self::wrong_type(name, "Integer")),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| Self::wrong_type(name, "Integer")),
            Some(_) => Err(Self::wrong_type(name, "Integer")),
        }
    }

    pub fn string(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(Self::wrong_type(name, "String")),
        }
    }

    pub fn bool(&self, name: &str) -> Result<bool, ApiError> {
        match self.raw(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::Number(n)) => Ok(n.as_i64() != Some(0)),
            Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(true),
                "false" | "0" | "" => Ok(false),
                _ => Err(Self::wrong_type(name, "Boolean")),
            },
            Some(_) => Err(Self::wrong_type(name, "Boolean")),
        }
    }

    /// A structured parameter: JSON in a JSON body, JSON text in a form.
    pub fn json(&self, name: &str) -> Result<Option<Value>, ApiError> {
        let cant_parse = || {
            ApiError::bad_request(&format!(
                "can't parse {} JSON object",
                name.replace('_', " ")
            ))
        };
        match self.raw(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => serde_json::from_str(s).map(Some).map_err(|_| cant_parse()),
            Some(v @ (Value::Object(_) | Value::Array(_))) => Ok(Some(v.clone())),
            Some(_) => Err(cant_parse()),
        }
    }

    pub fn file(&self, name: &str) -> Result<Option<FileParam>, ApiError> {
        if let Some(upload) = self.files.get(name) {
            return Ok(Some(FileParam::Upload(upload.clone())));
        }
        let Some(value) = self.string(name)? else {
            return Ok(None);
        };
        if let Some(part) = value.strip_prefix("attach://") {
            return match self.files.get(part) {
                Some(upload) => Ok(Some(FileParam::Upload(upload.clone()))),
                None => Err(ApiError::bad_request(&format!(
                    "file {part} is not found in the request"
                ))),
            };
        }
        Ok(Some(FileParam::Reference(value)))
    }

    /// The numeric `chat_id`, when there is one, for call records.
    pub fn chat_id_hint(&self) -> Option<i64> {
        self.int("chat_id").ok().flatten()
    }
}
