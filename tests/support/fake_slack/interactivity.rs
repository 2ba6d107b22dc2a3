//! Block Kit buttons and presses of them: `blocks` checked against Slack's limits (50 blocks, a
//! section's text of 3,000 characters, an actions block of at most 25 elements, a button's
//! label of 75 characters, `action_id` of 255, `value` of 2,000), and a person's press of a
//! button sent as Slack sends it — a `block_actions` interaction, in a Socket Mode
//! `interactive` envelope or as the signed form field `payload` POSTed to the interactivity
//! Request URL.

use serde_json::{Value, json};

use super::reply::ApiError;
use super::state::State;

/// Checks `blocks` as Slack does; `invalid_blocks` otherwise.
pub(super) fn check_blocks(blocks: &Value) -> Result<(), ApiError> {
    let invalid = || ApiError::new("invalid_blocks");
    let list = blocks.as_array().ok_or_else(invalid)?;
    if list.len() > 50 {
        return Err(invalid());
    }
    for block in list {
        match block["type"].as_str() {
            Some("section") => {
                let text = block["text"]["text"].as_str().ok_or_else(invalid)?;
                if text.is_empty() || text.chars().count() > 3000 {
                    return Err(invalid());
                }
            }
            Some("actions") => {
                let elements = block["elements"].as_array().ok_or_else(invalid)?;
                if elements.is_empty() || elements.len() > 25 {
                    return Err(invalid());
                }
                elements.iter().try_for_each(check_button)?;
            }
            Some(_) => {}
            None => return Err(invalid()),
        }
    }
    Ok(())
}

fn check_button(button: &Value) -> Result<(), ApiError> {
    let label = button["text"]["text"].as_str().unwrap_or_default();
    let action_id = button["action_id"].as_str().unwrap_or_default();
    let value = button["value"].as_str().unwrap_or_default();
    let fits = button["type"] == "button"
        && button["text"]["type"] == "plain_text"
        && (1..=75).contains(&label.chars().count())
        && (1..=255).contains(&action_id.len())
        && value.len() <= 2000;
    if fits {
        Ok(())
    } else {
        Err(ApiError::new("invalid_blocks"))
    }
}

/// The button labelled `label` under the message, if it has one now.
pub(super) fn find_button(blocks: Option<&Value>, label: &str) -> Option<Value> {
    blocks?
        .as_array()?
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .find(|e| e["text"]["text"] == label)
}

/// The `block_actions` payload of `user` pressing `button` under the bot's message `ts` in
/// `channel`, remembered under its `trigger_id` (to deliver it again).
pub(super) fn press_payload(
    st: &mut State,
    (team, channel, user): (&str, &str, &str),
    message: Value,
    button: &Value,
) -> (String, Value) {
    let trigger_id = format!(
        "{}.47445629121.{}",
        13_345_224_609 + st.presses.len(),
        uuid::Uuid::new_v4().simple()
    );
    let payload = json!({
        "type": "block_actions",
        "team": {"id": team, "domain": "fake"},
        "user": {"id": user, "team_id": team},
        "api_app_id": "A0FAKEAPP",
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel},
        "trigger_id": trigger_id,
        "channel": {"id": channel},
        "message": message,
        "response_url": format!("https://hooks.slack.invalid/actions/{trigger_id}"),
        "actions": [{
            "type": "button",
            "action_id": button["action_id"],
            "block_id": "fake-block",
            "text": button["text"],
            "value": button["value"],
            "action_ts": format!("{}.000001", st.presses.len() + 1),
        }],
    });
    st.presses.insert(trigger_id.clone(), payload.clone());
    (trigger_id, payload)
}
