//! Slack's object shapes, shared by Web API answers and event payloads:
//! messages (a person's, this app's bot, another app's bot, a legacy
//! integration), thread metadata, `rich_text` blocks made from text, bot
//! profiles and files. Field order follows real payloads (see
//! `tests/fixtures/slack/`), although no client should depend on it.

use serde_json::{Map, Value, json};

use super::config::FakeSlackConfig;
use super::state::{MessageRec, State, unix_secs};
use super::types::SharedFile;

/// `bot_profile` of a bot message, as Slack attaches it.
pub(super) fn bot_profile(cfg: &FakeSlackConfig, bot_id: &str, app_id: &str, name: &str) -> Value {
    json!({
        "id": bot_id,
        "deleted": false,
        "name": name,
        "updated": 1_700_000_000,
        "app_id": app_id,
        "icons": {
            "image_36": "https://a.slack-edge.com/80588/img/plugins/app/bot_36.png",
            "image_48": "https://a.slack-edge.com/80588/img/plugins/app/bot_48.png",
            "image_72": "https://a.slack-edge.com/80588/img/plugins/app/service_72.png"
        },
        "team_id": cfg.team_id,
    })
}

/// The `rich_text` block Slack's clients attach to what a person types:
/// mentions, channel links and URLs become their own elements.
pub(super) fn rich_text(text: &str, block_id: &str) -> Value {
    let mut elements = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        let Some(len) = rest[start..].find('>') else {
            break;
        };
        if start > 0 {
            elements.push(json!({"type": "text", "text": &rest[..start]}));
        }
        let inner = &rest[start + 1..start + len];
        let target = inner.split('|').next().unwrap_or_default();
        elements.push(if let Some(id) = target.strip_prefix('@') {
            json!({"type": "user", "user_id": id})
        } else if let Some(id) = target.strip_prefix('#') {
            json!({"type": "channel", "channel_id": id})
        } else if let Some(range) = target.strip_prefix('!') {
            json!({"type": "broadcast", "range": range})
        } else {
            json!({"type": "link", "url": target})
        });
        rest = &rest[start + len + 1..];
    }
    if !rest.is_empty() {
        elements.push(json!({"type": "text", "text": rest}));
    }
    json!([{
        "type": "rich_text",
        "block_id": block_id,
        "elements": [{"type": "rich_text_section", "elements": elements}]
    }])
}

/// A message object as `conversations.history`, `chat.postMessage` and
/// events show it.
pub(super) fn message(cfg: &FakeSlackConfig, st: &State, channel: &str, m: &MessageRec) -> Value {
    let mut o = Map::new();
    let mut put = |k: &str, v: Value| {
        o.insert(k.to_string(), v);
    };
    if let Some(id) = &m.client_msg_id {
        put("client_msg_id", json!(id));
    }
    put("type", json!("message"));
    if let Some(subtype) = &m.subtype {
        put("subtype", json!(subtype));
    }
    put("text", json!(m.text()));
    if let Some(user) = &m.user {
        put("user", json!(user));
    }
    if let Some(name) = &m.username {
        put("username", json!(name));
    }
    put("ts", json!(m.ts));
    if let Some(bot_id) = &m.bot_id {
        put("bot_id", json!(bot_id));
        if let Some(app_id) = &m.app_id {
            put("app_id", json!(app_id));
            let name = m
                .user
                .as_deref()
                .and_then(|u| st.users.get(u))
                .map_or(cfg.bot_name.as_str(), |u| u.name.as_str());
            put("bot_profile", bot_profile(cfg, bot_id, app_id, name));
        }
    }
    if let Some(blocks) = &m.blocks {
        put("blocks", blocks.clone());
    }
    // Real `channel_join` and integration messages carry no `team`.
    if !matches!(m.subtype.as_deref(), Some("channel_join" | "bot_message")) {
        put("team", json!(cfg.team_id));
    }
    if let Some((user, ts)) = &m.edited {
        put("edited", json!({"user": user, "ts": ts}));
    }
    thread_fields(st, channel, m, &mut put);
    if !m.files.is_empty() {
        let files: Vec<Value> = m
            .files
            .iter()
            .filter_map(|id| st.files.get(id))
            .map(|f| {
                let user = m.user.as_deref().unwrap_or_default();
                file(cfg, &st.files_url, f, user, m.ts.as_str())
            })
            .collect();
        put("files", json!(files));
        put("upload", json!(false));
    }
    for (k, v) in &m.extra {
        put(k, v.clone());
    }
    if !m.reactions.is_empty() {
        let reactions: Vec<Value> = m
            .reactions
            .iter()
            .map(|(name, users)| json!({"name": name, "users": users, "count": users.len()}))
            .collect();
        put("reactions", json!(reactions));
    }
    Value::Object(o)
}

fn thread_fields(st: &State, channel: &str, m: &MessageRec, put: &mut impl FnMut(&str, Value)) {
    if m.is_reply() {
        let thread_ts = m.thread_ts.clone().unwrap_or_default();
        put("thread_ts", json!(thread_ts));
        if let Some(parent) = st.message(channel, &thread_ts).and_then(|p| p.user.clone()) {
            put("parent_user_id", json!(parent));
        }
        return;
    }
    let replies = st.replies(channel, &m.ts);
    if replies.is_empty() {
        return;
    }
    let mut users: Vec<String> = Vec::new();
    for r in &replies {
        if let Some(u) = &r.user
            && !users.contains(u)
        {
            users.push(u.clone());
        }
    }
    put("thread_ts", json!(m.ts));
    put("reply_count", json!(replies.len()));
    put("reply_users_count", json!(users.len()));
    put("latest_reply", json!(replies.last().map(|r| r.ts.clone())));
    put("reply_users", json!(users));
    put("is_locked", json!(false));
    put("subscribed", json!(false));
}

/// What a file name says about its type: `(mimetype, filetype, pretty_type)`.
pub(super) fn file_type(name: &str) -> (&'static str, &'static str, &'static str) {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("png") => ("image/png", "png", "PNG"),
        Some("jpg" | "jpeg") => ("image/jpeg", "jpg", "JPEG"),
        Some("gif") => ("image/gif", "gif", "GIF"),
        Some("txt" | "log") => ("text/plain", "text", "Plain Text"),
        Some("md") => ("text/plain", "markdown", "Markdown (raw)"),
        Some("json") => ("application/json", "json", "JSON"),
        Some("diff" | "patch") => ("text/plain", "diff", "Diff"),
        Some("pdf") => ("application/pdf", "pdf", "PDF"),
        Some("m4a") => ("audio/mp4", "m4a", "MPEG 4 Audio"),
        Some("ogg") => ("audio/ogg", "ogg", "Ogg Vorbis"),
        _ => ("application/octet-stream", "binary", "Binary"),
    }
}

/// A file object as `files.completeUploadExternal` and messages show it; `files_url` stands in
/// for `https://files.slack.com/files-pri`.
pub(super) fn file(
    cfg: &FakeSlackConfig,
    files_url: &str,
    f: &SharedFile,
    user: &str,
    at_ts: &str,
) -> Value {
    let (mimetype, filetype, pretty) = file_type(&f.filename);
    let created = at_ts
        .split('.')
        .next()
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or_else(|| unix_secs(std::time::SystemTime::now()));
    let private = format!("{files_url}/{}-{}/{}", cfg.team_id, f.id, f.filename);
    let mut o = json!({
        "id": f.id,
        "created": created,
        "timestamp": created,
        "name": f.filename,
        "title": f.title.clone().unwrap_or_else(|| f.filename.clone()),
        "mimetype": mimetype,
        "filetype": filetype,
        "pretty_type": pretty,
        "user": user,
        "user_team": cfg.team_id,
        "editable": false,
        "size": f.bytes.as_ref().map_or(f.declared_length, |b| b.len() as u64),
        "mode": "hosted",
        "is_external": false,
        "external_type": "",
        "is_public": f.channel.as_deref().is_some_and(|c| c.starts_with('C')),
        "public_url_shared": false,
        "display_as_bot": false,
        "username": "",
        "url_private": private,
        "url_private_download": format!("{private}?download=1"),
        "permalink": format!(
            "https://{}.slack.com/files/{}/{}/{}",
            cfg.team_domain, user, f.id, f.filename
        ),
        "comments_count": 0,
        "is_starred": false,
        "shares": {},
        "channels": [],
        "groups": [],
        "ims": [],
        "has_more_shares": false,
        "has_rich_preview": false,
        "file_access": "visible",
    });
    if let Some(alt) = &f.alt_txt {
        o["alt_txt"] = json!(alt);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rich_text_splits_mentions_links_and_text() {
        let blocks = rich_text("<@U1> see <https://x.y|x> in <#C2|gen>!", "abc");
        let elements = &blocks[0]["elements"][0]["elements"];
        assert_eq!(
            elements,
            &json!([
                {"type": "user", "user_id": "U1"},
                {"type": "text", "text": " see "},
                {"type": "link", "url": "https://x.y"},
                {"type": "text", "text": " in "},
                {"type": "channel", "channel_id": "C2"},
                {"type": "text", "text": "!"},
            ])
        );
        assert_eq!(blocks[0]["block_id"], "abc");
        let plain = rich_text("a < b", "x");
        assert_eq!(plain[0]["elements"][0]["elements"][0]["text"], "a < b");
    }

    #[test]
    fn file_types_follow_the_extension() {
        assert_eq!(file_type("shot.PNG").1, "png");
        assert_eq!(file_type("changes.diff").0, "text/plain");
        assert_eq!(file_type("noext").1, "binary");
    }
}
