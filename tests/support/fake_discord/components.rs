//! Message components: buttons under the bot's messages, checked as Discord checks them (at
//! most 5 action rows (type 1) of at most 5 buttons (type 2), a label of at most 80 characters,
//! a `custom_id` of 1–100 characters, unique in the message), kept per message (`components`
//! on an edit replaces them, `[]` removes them), and pressed by tests: an INTERACTION_CREATE of
//! type 3 (MESSAGE_COMPONENT) naming the message and the button's `custom_id`, which the bot
//! acknowledges (type 6, DEFERRED_UPDATE_MESSAGE) and may follow up on.

use serde_json::{Value, json};

use super::reply::Reply;

/// One button under a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Button {
    pub label: String,
    pub custom_id: String,
}

/// The `components` of a create or edit: `None` when absent (an edit keeps the message's).
pub(super) fn of(body: &Value) -> Result<Option<Vec<Button>>, Reply> {
    let Some(rows) = body.get("components") else {
        return Ok(None);
    };
    let rows = rows
        .as_array()
        .ok_or_else(|| Reply::field(&["components"], "BASE_TYPE_ARRAY", "Must be an array."))?;
    if rows.len() > 5 {
        return Err(Reply::bad_length(&["components"], 0, 5));
    }
    let mut buttons: Vec<Button> = Vec::new();
    for row in rows {
        let items = row["components"].as_array().filter(|_| row["type"] == 1);
        let Some(items) = items.filter(|i| (1..=5).contains(&i.len())) else {
            return Err(Reply::field(
                &["components"],
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "An action row holds 1 to 5 buttons.",
            ));
        };
        for item in items {
            let label = item["label"].as_str().unwrap_or_default();
            let custom_id = item["custom_id"].as_str().unwrap_or_default();
            if item["type"] != 2 || label.chars().count() > 80 {
                return Err(Reply::bad_length(&["components", "label"], 1, 80));
            }
            if !(1..=100).contains(&custom_id.chars().count()) {
                return Err(Reply::bad_length(&["components", "custom_id"], 1, 100));
            }
            if buttons.iter().any(|b| b.custom_id == custom_id) {
                return Err(Reply::field(
                    &["components", "custom_id"],
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    "Component custom id cannot be duplicated",
                ));
            }
            buttons.push(Button {
                label: label.to_owned(),
                custom_id: custom_id.to_owned(),
            });
        }
    }
    Ok(Some(buttons))
}

/// The buttons as a message shows them (one row).
pub(super) fn to_json(buttons: &[Button]) -> Value {
    if buttons.is_empty() {
        return json!([]);
    }
    let row: Vec<Value> = buttons
        .iter()
        .map(|b| json!({"type": 2, "style": 2, "label": b.label, "custom_id": b.custom_id}))
        .collect();
    json!([{ "type": 1, "components": row }])
}
