//! What queues a prompt without anyone typing it: a schedule or an inbound webhook (a hook),
//! and how a hook's prompt template is filled from the JSON body it was sent.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ids::ScheduleId;

/// The most characters one `{{field}}` puts into a prompt.
const FIELD_CHARS: usize = 2_000;

/// Who queued a prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Trigger {
    Schedule(ScheduleId),
    /// A `[hooks.NAME]`, by name.
    Hook(String),
}

impl Trigger {
    /// The author and audit actor: `schedule:ID` or `hook:NAME`.
    pub fn actor(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trigger::Schedule(id) => write!(f, "schedule:{id}"),
            Trigger::Hook(name) => write!(f, "hook:{name}"),
        }
    }
}

/// `template` with each `{{path}}` replaced by the body's value at `path` (top-level or dotted:
/// `run.url`, `commits.0.id`): a string as it is, anything else as JSON, a missing one as
/// `(none)`. The values are the sender's text: they go into the prompt only (the agent reads
/// them as a message), cut to [`FIELD_CHARS`], never anywhere near a shell.
pub fn fill_template(template: &str, body: &serde_json::Value) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let Some(end) = rest[start + 2..].find("}}") else {
            break;
        };
        out.push_str(&rest[..start]);
        let path = rest[start + 2..start + 2 + end].trim();
        out.push_str(&field(body, path));
        rest = &rest[start + 2 + end + 2..];
    }
    out.push_str(rest);
    out
}

fn field(body: &serde_json::Value, path: &str) -> String {
    let mut value = body;
    for key in path.split('.') {
        let next = match value {
            serde_json::Value::Object(map) => map.get(key),
            serde_json::Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(next) => value = next,
            None => return "(none)".to_owned(),
        }
    }
    let text = match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    text.chars()
        .filter(|c| *c != '\0')
        .take(FIELD_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_fill_from_the_body_and_missing_ones_say_so() {
        let body = serde_json::json!({
            "branch": "main",
            "run": {"url": "https://ci/1", "attempt": 2},
            "commits": [{"id": "abc"}],
            "evil": "$(rm -rf /)\u{0}`x`",
        });
        assert_eq!(
            fill_template(
                "CI failed on {{branch}} ({{ run.url }}, try {{run.attempt}}, {{commits.0.id}}): \
                 {{evil}} {{nope.x}} {{unclosed",
                &body
            ),
            "CI failed on main (https://ci/1, try 2, abc): $(rm -rf /)`x` (none) {{unclosed"
        );
        let long = serde_json::json!({"log": "x".repeat(10_000)});
        assert_eq!(fill_template("{{log}}", &long).len(), FIELD_CHARS);
        assert_eq!(fill_template("{{a}}", &serde_json::json!([1])), "(none)");
    }
}
