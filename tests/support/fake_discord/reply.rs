//! Answers: Discord's JSON error bodies (`{"message": …, "code": N}`, and
//! `Invalid Form Body` with its nested `errors` tree) with the HTTP status
//! Discord pairs them with.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

#[derive(Debug, Clone)]
pub(super) struct Reply {
    pub status: StatusCode,
    /// `None`: 204 No Content.
    pub body: Option<Value>,
}

impl Reply {
    pub fn ok(body: Value) -> Self {
        Self {
            status: StatusCode::OK,
            body: Some(body),
        }
    }

    pub fn no_content() -> Self {
        Self {
            status: StatusCode::NO_CONTENT,
            body: None,
        }
    }

    pub fn error(status: u16, code: u32, message: &str) -> Self {
        Self {
            status: StatusCode::from_u16(status).expect("a valid status"),
            body: Some(json!({ "message": message, "code": code })),
        }
    }

    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// The JSON error code, 0 for success.
    pub fn code(&self) -> u64 {
        self.body
            .as_ref()
            .and_then(|b| b.get("code"))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    }

    pub fn unauthorized() -> Self {
        Self::error(401, 0, "401: Unauthorized")
    }

    pub fn not_found() -> Self {
        Self::error(404, 0, "404: Not Found")
    }

    pub fn unknown_channel() -> Self {
        Self::error(404, 10003, "Unknown Channel")
    }

    pub fn unknown_guild() -> Self {
        Self::error(404, 10004, "Unknown Guild")
    }

    pub fn unknown_message() -> Self {
        Self::error(404, 10008, "Unknown Message")
    }

    pub fn unknown_emoji() -> Self {
        Self::error(400, 10014, "Unknown Emoji")
    }

    pub fn unknown_webhook() -> Self {
        Self::error(404, 10015, "Unknown Webhook")
    }

    pub fn unknown_interaction() -> Self {
        Self::error(404, 10062, "Unknown interaction")
    }

    pub fn missing_access() -> Self {
        Self::error(403, 50001, "Missing Access")
    }

    pub fn cannot_edit_others() -> Self {
        Self::error(403, 50005, "Cannot edit a message authored by another user")
    }

    pub fn empty_message() -> Self {
        Self::error(400, 50006, "Cannot send an empty message")
    }

    pub fn wrong_channel_type() -> Self {
        Self::error(400, 50024, "Cannot execute action on this channel type")
    }

    pub fn invalid_webhook_token() -> Self {
        Self::error(401, 50027, "Invalid Webhook Token")
    }

    pub fn too_large() -> Self {
        Self::error(413, 40005, "Request entity too large")
    }

    pub fn already_acknowledged() -> Self {
        Self::error(400, 40060, "Interaction has already been acknowledged.")
    }

    pub fn thread_exists() -> Self {
        Self::error(
            400,
            160004,
            "A thread has already been created for this message",
        )
    }

    pub fn invalid_json() -> Self {
        Self::error(400, 50109, "The request body contains invalid JSON.")
    }

    /// 400 `Invalid Form Body` (50035) with `errors` as given.
    pub fn form(errors: Value) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            body: Some(json!({
                "message": "Invalid Form Body",
                "code": 50035,
                "errors": errors,
            })),
        }
    }

    /// `Invalid Form Body` with one error at `path`.
    pub fn field(path: &[&str], code: &str, message: &str) -> Self {
        Self::form(field_errors(path, code, message))
    }

    pub fn too_long(path: &[&str], max: usize) -> Self {
        Self::field(
            path,
            "BASE_TYPE_MAX_LENGTH",
            &format!("Must be {max} or fewer in length."),
        )
    }

    pub fn bad_length(path: &[&str], min: usize, max: usize) -> Self {
        Self::field(
            path,
            "BASE_TYPE_BAD_LENGTH",
            &format!("Must be between {min} and {max} in length."),
        )
    }

    pub fn required(path: &[&str]) -> Self {
        Self::field(path, "BASE_TYPE_REQUIRED", "This field is required")
    }

    /// A path parameter or field that is not a snowflake.
    pub fn not_snowflake(field: &str, value: &str) -> Self {
        Self::field(
            &[field],
            "NUMBER_TYPE_COERCE",
            &format!("Value \"{value}\" is not snowflake."),
        )
    }
}

/// `{"a": {"b": {"_errors": [{"code": …, "message": …}]}}}`.
pub(super) fn field_errors(path: &[&str], code: &str, message: &str) -> Value {
    let mut v = json!({ "_errors": [{ "code": code, "message": message }] });
    for key in path.iter().rev() {
        let mut m = Map::new();
        m.insert((*key).to_string(), v);
        v = Value::Object(m);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_errors_nest_along_the_path() {
        let r = Reply::too_long(&["content"], 2000);
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            r.body.unwrap(),
            json!({
                "message": "Invalid Form Body",
                "code": 50035,
                "errors": {"content": {"_errors": [
                    {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}
                ]}}
            })
        );
        assert_eq!(
            field_errors(&["0", "name"], "X", "y"),
            json!({"0": {"name": {"_errors": [{"code": "X", "message": "y"}]}}})
        );
    }
}
