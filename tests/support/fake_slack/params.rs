//! A Web API call's arguments, from wherever Slack accepts them: the query
//! string, an `application/x-www-form-urlencoded` body, a
//! `multipart/form-data` body, or an `application/json` body (where values
//! keep their JSON types). Body values win over query values.
//!
//! Slack's quirks kept here: a JSON body without `; charset=utf-8` earns the
//! `missing_charset` warning; arrays such as `files` arrive as JSON text in
//! form bodies and as arrays in JSON bodies, and both are accepted; the token
//! may come as a `token` argument instead of the `Authorization` header.

use axum::body::to_bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use serde_json::{Map, Value};

use super::reply::ApiError;

/// Web API bodies are small; uploads go to the upload URL instead.
const MAX_BODY: usize = 4 * 1024 * 1024;

#[derive(Debug, Default)]
pub(super) struct Params {
    map: Map<String, Value>,
    /// JSON body sent without a charset.
    pub missing_charset: bool,
}

impl Params {
    pub async fn from_request(req: Request) -> Result<Self, ApiError> {
        let mut map = Map::new();
        if let Some(query) = req.uri().query() {
            for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
                map.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        }
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let mut missing_charset = false;
        if content_type.starts_with("multipart/form-data") {
            let mut form = Multipart::from_request(req, &())
                .await
                .map_err(|_| ApiError::new("invalid_form_data"))?;
            while let Ok(Some(field)) = form.next_field().await {
                let name = field.name().unwrap_or_default().to_string();
                let text = field
                    .text()
                    .await
                    .map_err(|_| ApiError::new("invalid_form_data"))?;
                map.insert(name, Value::String(text));
            }
        } else {
            let body = to_bytes(req.into_body(), MAX_BODY)
                .await
                .map_err(|_| ApiError::new("request_too_large"))?;
            if content_type.starts_with("application/json") {
                missing_charset = !content_type.contains("charset");
                match serde_json::from_slice::<Value>(&body) {
                    Ok(Value::Object(obj)) => map.extend(obj),
                    _ if body.is_empty() => {}
                    _ => return Err(ApiError::new("invalid_json")),
                }
            } else {
                for (k, v) in url::form_urlencoded::parse(&body) {
                    map.insert(k.into_owned(), Value::String(v.into_owned()));
                }
            }
        }
        Ok(Self {
            map,
            missing_charset,
        })
    }

    #[cfg(test)]
    pub fn from_value(v: Value) -> Self {
        match v {
            Value::Object(map) => Self {
                map,
                missing_charset: false,
            },
            _ => Self::default(),
        }
    }

    /// A scalar argument as text; empty text counts as absent, as on Slack.
    pub fn string(&self, key: &str) -> Option<String> {
        let text = match self.map.get(key)? {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return None,
        };
        (!text.is_empty()).then_some(text)
    }

    pub fn bool(&self, key: &str) -> Option<bool> {
        match self.map.get(key)? {
            Value::Bool(b) => Some(*b),
            Value::Number(n) => Some(n.as_u64() != Some(0)),
            Value::String(s) => match s.as_str() {
                "true" | "1" => Some(true),
                "false" | "0" | "" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn u64(&self, key: &str) -> Option<u64> {
        match self.map.get(key)? {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// A structured argument (`blocks`, `files`): a JSON value, or JSON text.
    /// `Err` when it is text that does not parse.
    pub fn json(&self, key: &str) -> Result<Option<Value>, ()> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => serde_json::from_str(s).map(Some).map_err(|_| ()),
            Some(other) => Ok(Some(other.clone())),
        }
    }

    /// All arguments, for the call record (the token is masked).
    pub fn to_value(&self) -> Value {
        let mut map = self.map.clone();
        if map.contains_key("token") {
            map.insert("token".into(), Value::String("***".into()));
        }
        Value::Object(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_read_across_encodings() {
        let p = Params::from_value(json!({
            "a": "x", "n": 5, "s": "7", "t": "true", "f": false, "e": "",
            "blocks": "[{\"type\":\"divider\"}]", "arr": [1], "bad": "{"
        }));
        assert_eq!(p.string("a").as_deref(), Some("x"));
        assert_eq!(p.string("n").as_deref(), Some("5"));
        assert_eq!(p.string("e"), None, "empty text is absent");
        assert_eq!(p.u64("s"), Some(7));
        assert_eq!(p.bool("t"), Some(true));
        assert_eq!(p.bool("f"), Some(false));
        assert_eq!(p.json("blocks"), Ok(Some(json!([{"type": "divider"}]))));
        assert_eq!(p.json("arr"), Ok(Some(json!([1]))));
        assert_eq!(p.json("bad"), Err(()));
        assert_eq!(p.json("missing"), Ok(None));
    }
}
