//! Application commands: bulk overwrite (global or per guild) with
//! Discord's validation, and reads. A command keeps its id across
//! overwrites while its name and type stay, as on Discord.

use serde_json::{Map, Value, json};

use super::handlers::{Ctx, snowflake};
use super::reply::{Reply, field_errors};
use super::state::{CommandRec, State};

/// Most commands one scope holds (CHAT_INPUT).
const MAX_COMMANDS: usize = 100;
const MAX_OPTIONS: usize = 25;

/// Whether `name` is a valid CHAT_INPUT command or option name:
/// `^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$`, lower case where a
/// letter has a lower-case form.
pub(super) fn valid_chat_input_name(name: &str) -> bool {
    let n = name.chars().count();
    (1..=32).contains(&n)
        && name.chars().all(|c| {
            let deva_or_thai =
                ('\u{0900}'..='\u{097F}').contains(&c) || ('\u{0E00}'..='\u{0E7F}').contains(&c);
            (c.is_alphanumeric() || c == '-' || c == '_' || deva_or_thai) && !c.is_uppercase()
        })
}

/// The first problem with one command (or option list), as Discord's
/// `errors` tree below the command's index.
fn check_options(options: &Value, path: &mut Vec<String>) -> Option<Value> {
    let Some(list) = options.as_array() else {
        if options.is_null() {
            return None;
        }
        return Some(err(
            path,
            "LIST_TYPE_CONVERT",
            "Only iterables may be used in a ListType.",
        ));
    };
    if list.len() > MAX_OPTIONS {
        return Some(err(
            path,
            "BASE_TYPE_MAX_LENGTH",
            "Must be 25 or fewer in length.",
        ));
    }
    let mut seen_optional = false;
    let mut names: Vec<&str> = Vec::new();
    for (i, o) in list.iter().enumerate() {
        path.push(i.to_string());
        let kind = o["type"].as_u64().unwrap_or(0);
        if !(1..=11).contains(&kind) {
            path.push("type".into());
            return Some(err(
                path,
                "BASE_TYPE_CHOICES",
                "Value must be one of {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}.",
            ));
        }
        let name = o["name"].as_str().unwrap_or_default();
        if !valid_chat_input_name(name) {
            path.push("name".into());
            return Some(err(
                path,
                "APPLICATION_COMMAND_INVALID_NAME",
                "Command name is invalid",
            ));
        }
        if names.contains(&name) {
            path.push("name".into());
            return Some(err(
                path,
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                &format!("Option name {name} is already used in these options"),
            ));
        }
        names.push(name);
        let desc = o["description"]
            .as_str()
            .unwrap_or_default()
            .chars()
            .count();
        if !(1..=100).contains(&desc) {
            path.push("description".into());
            return Some(err(
                path,
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            ));
        }
        let required = o["required"].as_bool().unwrap_or(false);
        if required && seen_optional {
            path.push("required".into());
            return Some(err(
                path,
                "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                "Required options must be placed before non-required options",
            ));
        }
        seen_optional |= !required;
        if o["choices"]
            .as_array()
            .is_some_and(|c| c.len() > MAX_OPTIONS)
        {
            path.push("choices".into());
            return Some(err(
                path,
                "BASE_TYPE_MAX_LENGTH",
                "Must be 25 or fewer in length.",
            ));
        }
        if kind <= 2 && o.get("options").is_some() {
            path.push("options".into());
            if let Some(e) = check_options(&o["options"], path) {
                return Some(e);
            }
            path.pop();
        }
        path.pop();
    }
    None
}

fn err(path: &[String], code: &str, message: &str) -> Value {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    field_errors(&p, code, message)
}

/// Checks one command; `None` when Discord would accept it.
pub(super) fn check_command(index: usize, c: &Value) -> Option<Value> {
    let mut path = vec![index.to_string()];
    let kind = c["type"].as_u64().unwrap_or(1);
    if !(1..=4).contains(&kind) {
        path.push("type".into());
        return Some(err(
            &path,
            "BASE_TYPE_CHOICES",
            "Value must be one of {1, 2, 3, 4}.",
        ));
    }
    let Some(name) = c["name"].as_str() else {
        path.push("name".into());
        return Some(err(&path, "BASE_TYPE_REQUIRED", "This field is required"));
    };
    let name_ok = if kind == 1 {
        valid_chat_input_name(name)
    } else {
        (1..=32).contains(&name.chars().count())
    };
    if !name_ok {
        path.push("name".into());
        return Some(err(
            &path,
            "APPLICATION_COMMAND_INVALID_NAME",
            "Command name is invalid",
        ));
    }
    let desc = c["description"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .count();
    if kind == 1 && !(1..=100).contains(&desc) {
        path.push("description".into());
        return Some(err(
            &path,
            "BASE_TYPE_BAD_LENGTH",
            "Must be between 1 and 100 in length.",
        ));
    }
    if kind != 1 && desc != 0 {
        path.push("description".into());
        return Some(err(
            &path,
            "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION",
            "Context menu commands cannot have description",
        ));
    }
    path.push("options".into());
    check_options(&c["options"], &mut path)
}

fn to_json(st: &State, c: &CommandRec) -> Value {
    let mut v = json!({
        "id": c.id.to_string(),
        "application_id": st.bot_id.to_string(),
        "version": c.version.to_string(),
        "default_member_permissions": c.body.get("default_member_permissions").cloned().unwrap_or(Value::Null),
        "type": c.kind,
        "name": c.name,
        "name_localizations": null,
        "description": c.body["description"].as_str().unwrap_or_default(),
        "description_localizations": null,
        "nsfw": c.body["nsfw"].as_bool().unwrap_or(false),
        "integration_types": c.body.get("integration_types").cloned().unwrap_or(json!([0])),
        "contexts": c.body.get("contexts").cloned().unwrap_or(Value::Null),
    });
    match c.guild_id {
        Some(g) => v["guild_id"] = json!(g.to_string()),
        None => v["dm_permission"] = json!(c.body["dm_permission"].as_bool().unwrap_or(true)),
    }
    if let Some(o) = c.body["options"].as_array().filter(|o| !o.is_empty()) {
        v["options"] = Value::Array(o.clone());
    }
    v
}

/// The commands of one scope, in registration order.
pub(super) fn list(st: &State, guild: Option<u64>) -> Vec<Value> {
    st.commands
        .iter()
        .filter(|c| c.guild_id == guild)
        .map(|c| to_json(st, c))
        .collect()
}

fn scope(cx: &Ctx<'_>, app: &str, guild: Option<&str>) -> Result<Option<u64>, Reply> {
    if snowflake("application_id", app)? != cx.st.bot_id {
        return Err(Reply::missing_access());
    }
    match guild {
        None => Ok(None),
        Some(g) => {
            let g = snowflake("guild_id", g)?;
            if !cx.st.guilds.contains_key(&g) {
                return Err(Reply::unknown_guild());
            }
            Ok(Some(g))
        }
    }
}

pub(super) fn get(cx: &mut Ctx<'_>, app: &str, guild: Option<&str>) -> Reply {
    match scope(cx, app, guild) {
        Ok(g) => Reply::ok(Value::Array(list(cx.st, g))),
        Err(r) => r,
    }
}

pub(super) fn overwrite(cx: &mut Ctx<'_>, app: &str, guild: Option<&str>) -> Reply {
    let g = match scope(cx, app, guild) {
        Ok(g) => g,
        Err(r) => return r,
    };
    let body = cx.body.json();
    let Some(list_in) = body.as_array() else {
        return Reply::form(field_errors(
            &[],
            "LIST_TYPE_CONVERT",
            "Only iterables may be used in a ListType.",
        ));
    };
    if list_in.len() > MAX_COMMANDS {
        return Reply::error(
            400,
            30032,
            "Maximum number of application commands reached (100)",
        );
    }
    let mut errors = Map::new();
    for (i, c) in list_in.iter().enumerate() {
        if let Some(Value::Object(e)) = check_command(i, c) {
            errors.extend(e);
        }
    }
    for (i, c) in list_in.iter().enumerate() {
        let dup = list_in[..i].iter().any(|o| {
            o["name"] == c["name"]
                && o["type"].as_u64().unwrap_or(1) == c["type"].as_u64().unwrap_or(1)
        });
        if dup
            && !errors.contains_key(&i.to_string())
            && let Value::Object(e) = field_errors(
                &[&i.to_string(), "name"],
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        {
            errors.extend(e);
        }
    }
    if !errors.is_empty() {
        return Reply::form(Value::Object(errors));
    }
    let old: Vec<CommandRec> = cx
        .st
        .commands
        .iter()
        .filter(|c| c.guild_id == g)
        .cloned()
        .collect();
    cx.st.commands.retain(|c| c.guild_id != g);
    for c in list_in {
        let name = c["name"].as_str().unwrap_or_default().to_string();
        let kind = c["type"].as_u64().unwrap_or(1) as u8;
        let prev = old.iter().find(|o| o.name == name && o.kind == kind);
        let (id, version) = match prev {
            Some(p) if p.body == *c => (p.id, p.version),
            Some(p) => (p.id, cx.st.next_id(cx.now.1)),
            None => {
                let id = cx.st.next_id(cx.now.1);
                (id, cx.st.next_id(cx.now.1))
            }
        };
        cx.st.commands.push(CommandRec {
            id,
            guild_id: g,
            name,
            kind,
            version,
            body: c.clone(),
        });
    }
    Reply::ok(Value::Array(list(cx.st, g)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_input_names() {
        for ok in ["new", "stop", "queue-list", "ask_ai", "über", "नमस्ते", "x1"] {
            assert!(valid_chat_input_name(ok), "{ok}");
        }
        for bad in ["", "New", "two words", "a/b", &"x".repeat(33), "emoji🙂"] {
            assert!(!valid_chat_input_name(bad), "{bad}");
        }
    }

    #[test]
    fn command_errors_name_the_field() {
        assert_eq!(
            check_command(0, &json!({"name": "new", "description": "Start"})),
            None
        );
        assert_eq!(
            check_command(2, &json!({"name": "New", "description": "x"})),
            Some(
                json!({"2": {"name": {"_errors": [{"code": "APPLICATION_COMMAND_INVALID_NAME", "message": "Command name is invalid"}]}}})
            )
        );
        let long = "d".repeat(101);
        let e = check_command(0, &json!({"name": "a", "description": long})).unwrap();
        assert_eq!(
            e["0"]["description"]["_errors"][0]["code"],
            "BASE_TYPE_BAD_LENGTH"
        );
        let e = check_command(
            0,
            &json!({"name": "a", "description": "b", "options": [
                {"type": 3, "name": "x", "description": "y"},
                {"type": 3, "name": "z", "description": "y", "required": true}
            ]}),
        )
        .unwrap();
        assert_eq!(
            e["0"]["options"]["1"]["required"]["_errors"][0]["code"],
            "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID"
        );
        let e = check_command(
            0,
            &json!({"name": "a", "description": "b", "options": [
                {"type": 3, "name": "Bad", "description": "y"}
            ]}),
        )
        .unwrap();
        assert_eq!(
            e["0"]["options"]["0"]["name"]["_errors"][0]["code"],
            "APPLICATION_COMMAND_INVALID_NAME"
        );
        // Context-menu commands take any name and no description.
        assert_eq!(
            check_command(0, &json!({"type": 3, "name": "Ask Switchboard"})),
            None
        );
    }
}
