//! Inline keyboards and callback queries: the bot's buttons, checked as Telegram checks them
//! (`callback_data` of 1–64 bytes, a label, one kind of action per button), kept with the
//! message they are under (an edit without `reply_markup` removes them, as on Telegram), and
//! pressed by tests as people press them: a `callback_query` update naming the message and the
//! button's data, which the bot must answer (`answerCallbackQuery`) exactly once.

use serde_json::{Value, json};

use super::methods::{ApiError, Cx, Reply};
use super::params::Params;
use super::state::State;

/// Telegram's limit on a button's `callback_data`.
pub(super) const CALLBACK_DATA_MAX: usize = 64;

/// One button of an inline keyboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct InlineButton {
    pub text: String,
    pub callback_data: String,
}

/// A callback query the fake sent: its update's payload (to deliver it again) and its answer.
#[derive(Debug, Clone)]
pub(super) struct Query {
    pub payload: Value,
    /// The answer's text (`Some("")` for an answer without one); `None` until answered.
    pub answer: Option<String>,
}

/// The `reply_markup` of a send or an edit, as rows of buttons (empty: none).
pub(super) fn keyboard(p: &Params) -> Result<Vec<Vec<InlineButton>>, ApiError> {
    let Some(markup) = p.json("reply_markup")? else {
        return Ok(Vec::new());
    };
    let rows = markup["inline_keyboard"]
        .as_array()
        .ok_or_else(|| ApiError::bad_request("can't parse reply keyboard markup JSON object"))?;
    rows.iter()
        .map(|row| {
            let row = row.as_array().ok_or_else(|| {
                ApiError::bad_request("field \"inline_keyboard\" must be an Array of Arrays")
            })?;
            row.iter().map(button).collect()
        })
        .collect()
}

fn button(b: &Value) -> Result<InlineButton, ApiError> {
    let text = b["text"].as_str().unwrap_or_default();
    if text.is_empty() {
        return Err(ApiError::bad_request("BUTTON_TEXT_EMPTY"));
    }
    let Some(data) = b["callback_data"].as_str() else {
        return Err(ApiError::bad_request(
            "the fake Telegram server implements callback buttons only",
        ));
    };
    if data.is_empty() || data.len() > CALLBACK_DATA_MAX {
        return Err(ApiError::bad_request("BUTTON_DATA_INVALID"));
    }
    Ok(InlineButton {
        text: text.to_owned(),
        callback_data: data.to_owned(),
    })
}

/// The keyboard as a message shows it; `None` without buttons.
pub(super) fn markup_json(keyboard: &[Vec<InlineButton>]) -> Option<Value> {
    (!keyboard.is_empty()).then(|| {
        let rows: Vec<Value> = keyboard
            .iter()
            .map(|row| {
                row.iter()
                    .map(|b| json!({ "text": b.text, "callback_data": b.callback_data }))
                    .collect()
            })
            .collect();
        json!({ "inline_keyboard": rows })
    })
}

/// `answerCallbackQuery`: once per query the fake sent.
pub(super) fn answer_callback_query(cx: &mut Cx, p: &Params) -> Reply {
    let id = p
        .string("callback_query_id")?
        .ok_or_else(|| ApiError::bad_request("parameter \"callback_query_id\" is required"))?;
    let text = p.string("text")?.unwrap_or_default();
    if text.chars().count() > 200 {
        return Err(ApiError::bad_request("MESSAGE_TOO_LONG"));
    }
    match cx.st.queries.get_mut(&id) {
        Some(query) if query.answer.is_none() => {
            query.answer = Some(text);
            Ok(json!(true).into())
        }
        _ => Err(ApiError::bad_request(
            "query is too old and response timeout expired or query ID is invalid",
        )),
    }
}

/// Queues the `callback_query` update of a query (again, for a repeated delivery).
pub(super) fn queue(state: &mut State, id: &str) -> i64 {
    let payload = state.queries[id].payload.clone();
    state.queue_update("callback_query", payload)
}
