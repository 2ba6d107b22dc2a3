//! setMyCommands, getMyCommands, deleteMyCommands: the command menu, with
//! tdlib's checks in tdlib's order and wording, then the server's
//! (`BOT_COMMAND_INVALID`, `BOT_COMMANDS_TOO_MUCH`).

use serde_json::{Value, json};

use super::methods::{ApiError, Cx, Reply};
use super::params::Params;

fn commands_key(p: &Params) -> Result<String, ApiError> {
    let scope = match p.json("scope")? {
        None => "default".to_string(),
        Some(scope) => {
            let kind = scope
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("default");
            let chat = scope.get("chat_id").map(ToString::to_string);
            let user = scope.get("user_id").map(ToString::to_string);
            [Some(kind.to_string()), chat, user]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(":")
        }
    };
    let language = p.string("language_code")?.unwrap_or_default();
    Ok(format!("{scope}/{language}"))
}

/// The default scope with no language: what `FakeTelegram::commands` shows.
pub(super) const DEFAULT_COMMANDS_KEY: &str = "default/";

pub(super) fn set_my_commands(cx: &mut Cx, p: &Params) -> Reply {
    let key = commands_key(p)?;
    let list = match p.json("commands")? {
        None => Vec::new(),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(ApiError::bad_request("can't parse commands JSON object")),
    };
    let mut commands = Vec::new();
    for item in &list {
        let field = |name: &str| {
            item.get(name).and_then(Value::as_str).ok_or_else(|| {
                ApiError::bad_request(&format!(
                    "can't parse BotCommand: Can't find field \"{name}\""
                ))
            })
        };
        // The order and wording of tdlib's checks, then the server's.
        let command = field("command")?.trim();
        let command = command.strip_prefix('/').unwrap_or(command);
        let description = field("description")?.trim();
        if command.is_empty() {
            return Err(ApiError::bad_request("command must be non-empty"));
        }
        if command.chars().count() > 32 {
            return Err(ApiError::bad_request("command length must not exceed 32"));
        }
        if description.is_empty() {
            return Err(ApiError::bad_request(
                "command description must be non-empty",
            ));
        }
        if description.chars().count() > 256 {
            return Err(ApiError::bad_request(
                "command description length must not exceed 256",
            ));
        }
        let valid = command
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(ApiError::bad_request("BOT_COMMAND_INVALID"));
        }
        commands.push((command.to_string(), description.to_string()));
    }
    if commands.len() > 100 {
        return Err(ApiError::bad_request("BOT_COMMANDS_TOO_MUCH"));
    }
    cx.st.commands.insert(key, commands);
    Ok(json!(true).into())
}

pub(super) fn get_my_commands(cx: &mut Cx, p: &Params) -> Reply {
    let key = commands_key(p)?;
    let list = cx.st.commands.get(&key).cloned().unwrap_or_default();
    let list: Vec<Value> = list
        .into_iter()
        .map(|(command, description)| json!({ "command": command, "description": description }))
        .collect();
    Ok(json!(list).into())
}

pub(super) fn delete_my_commands(cx: &mut Cx, p: &Params) -> Reply {
    let key = commands_key(p)?;
    cx.st.commands.remove(&key);
    Ok(json!(true).into())
}
