//! What Slack sends: Socket Mode envelopes, Events API callbacks, message events and slash
//! commands — only the fields Switchboard reads, leniently (Slack adds fields all the time, and
//! omits many depending on the event's subtype).

use serde::Deserialize;
use serde_json::Value;

/// A Socket Mode frame (`hello`, `disconnect`, or an envelope to acknowledge).
#[derive(Debug, Clone, Deserialize)]
pub struct Frame {
    #[serde(rename = "type")]
    pub kind: String,
    /// Set on envelopes (`events_api`, `slash_commands`, `interactive`): what the ack names.
    #[serde(default)]
    pub envelope_id: Option<String>,
    #[serde(default)]
    pub payload: Value,
    /// `disconnect`: why (`refresh_requested`, `warning`, `link_disabled`).
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub retry_attempt: Option<u32>,
}

/// An Events API body: a callback with an event, or the URL check.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Callback {
    UrlVerification {
        challenge: String,
    },
    EventCallback {
        team_id: String,
        #[serde(default)]
        event_id: String,
        event: Box<Event>,
    },
    #[serde(other)]
    Other,
}

/// A message-like event (`message`, `app_mention`); other event types parse with what they
/// share and are ignored by the translation.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub subtype: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub bot_id: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub ts: Option<String>,
    #[serde(default)]
    pub thread_ts: Option<String>,
    #[serde(default)]
    pub channel: Option<String>,
    /// `channel`, `group`, `im`, `mpim` (absent on `app_mention`).
    #[serde(default)]
    pub channel_type: Option<String>,
    /// The user's team, when it differs from the workspace's (shared channels).
    #[serde(default)]
    pub user_team: Option<String>,
    #[serde(default)]
    pub team: Option<String>,
    /// Files shared with the message (subtype `file_share`).
    #[serde(default)]
    pub files: Vec<SharedFile>,
}

/// A file shared in a message, as the event describes it.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct SharedFile {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub size: Option<u64>,
    /// Its media type (`audio/mp4` for an audio clip).
    #[serde(default)]
    pub mimetype: Option<String>,
    /// Absent for files the workspace hides (`mode: hidden_by_limit`, `tombstone`).
    #[serde(default)]
    pub url_private_download: Option<String>,
}

/// An interaction: a press of one of the bot's buttons (`block_actions`), as the `payload` form
/// field (the interactivity Request URL) or a Socket Mode `interactive` envelope's payload.
/// Other interactions (shortcuts, modals) are not the bot's and read as `kind` only.
#[derive(Debug, Clone, Deserialize)]
pub struct Interaction {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub team: Option<Named>,
    #[serde(default)]
    pub user: Option<Named>,
    #[serde(default)]
    pub channel: Option<Named>,
    #[serde(default)]
    pub message: Option<InteractionMessage>,
    #[serde(default)]
    pub actions: Vec<InteractionAction>,
    #[serde(default)]
    pub trigger_id: String,
}

/// A team, user or channel of an interaction: its id.
#[derive(Debug, Clone, Deserialize)]
pub struct Named {
    pub id: String,
}

/// The message whose button was pressed.
#[derive(Debug, Clone, Deserialize)]
pub struct InteractionMessage {
    pub ts: String,
    #[serde(default)]
    pub thread_ts: Option<String>,
    #[serde(default)]
    pub bot_id: Option<String>,
}

/// The button pressed.
#[derive(Debug, Clone, Deserialize)]
pub struct InteractionAction {
    pub action_id: String,
}

impl Interaction {
    /// An interaction from the interactivity Request URL's form body (`payload=<json>`).
    pub fn from_form(body: &[u8]) -> Option<Interaction> {
        let payload = url::form_urlencoded::parse(body)
            .find(|(name, _)| name == "payload")
            .map(|(_, value)| value.into_owned())?;
        serde_json::from_str(&payload).ok()
    }
}

/// A slash command, as form fields (Events API) or as a Socket Mode payload.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SlashCommand {
    pub team_id: String,
    pub channel_id: String,
    pub user_id: String,
    #[serde(default)]
    pub user_name: String,
    pub command: String,
    #[serde(default)]
    pub text: String,
    pub trigger_id: String,
}

impl SlashCommand {
    /// A slash command from the Events API's form body; `None` when it names no channel or
    /// trigger (not a slash command at all).
    pub fn from_form(body: &[u8]) -> Option<SlashCommand> {
        let fields: std::collections::HashMap<String, String> =
            url::form_urlencoded::parse(body).into_owned().collect();
        let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
        let command = SlashCommand {
            team_id: field("team_id"),
            channel_id: field("channel_id"),
            user_id: field("user_id"),
            user_name: field("user_name"),
            command: field("command"),
            text: field("text"),
            trigger_id: field("trigger_id"),
        };
        (!command.trigger_id.is_empty() && !command.channel_id.is_empty()).then_some(command)
    }
}
