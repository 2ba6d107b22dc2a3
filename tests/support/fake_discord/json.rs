//! Discord's object shapes (API v10), shared by REST answers and gateway
//! dispatches: users, members, roles, channels and threads, messages,
//! guilds as GUILD_CREATE carries them, the application, READY, and
//! interactions. Field sets follow real payloads (see
//! `tests/fixtures/discord/`), including the `null`s Discord sends.

use serde_json::{Map, Value, json};

use super::clock::{iso8601, snowflake_time};
use super::state::{ChannelRec, GuildRec, InteractionRec, MessageRec, State};
use super::types::{ChannelKind, FakeUser};

/// Permissions of `@everyone` in a new guild, as Discord sets them.
const EVERYONE_PERMISSIONS: &str = "2248473465835073";
/// What the fake's bot is granted (its managed role, and
/// `app_permissions`): view, send, threads, reactions, attach, history.
const BOT_PERMISSIONS: &str = "2251799813685247";

pub(super) fn user(u: &FakeUser) -> Value {
    let mut v = json!({
        "id": u.id,
        "username": u.username,
        "global_name": u.global_name,
        "avatar": null,
        "discriminator": if u.bot { "0001" } else { "0" },
        "public_flags": 0,
        "flags": 0,
        "banner": null,
        "accent_color": null,
        "avatar_decoration_data": null,
        "collectibles": null,
        "display_name_styles": null,
        "primary_guild": null,
        "clan": null,
    });
    if u.bot {
        v["bot"] = Value::Bool(true);
    }
    v
}

/// `/users/@me` and READY's `user`: the bot, with its account fields.
pub(super) fn current_user(u: &FakeUser) -> Value {
    let mut v = user(u);
    let m = v.as_object_mut().expect("an object");
    m.insert("verified".into(), Value::Bool(true));
    m.insert("mfa_enabled".into(), Value::Bool(false));
    m.insert("email".into(), Value::Null);
    m.insert("locale".into(), json!("en-US"));
    v
}

/// A guild member; `with_user` for GUILD_CREATE and interactions, without
/// for MESSAGE_CREATE (where `author` is the user).
pub(super) fn member(st: &State, guild: &GuildRec, user_id: u64, with_user: bool) -> Value {
    let rec = guild.members.get(&user_id);
    let joined = rec.map_or(guild.joined_at, |m| m.joined_at);
    let roles: Vec<String> = rec
        .map(|m| m.roles.iter().map(u64::to_string).collect())
        .unwrap_or_default();
    let mut v = json!({
        "roles": roles,
        "premium_since": null,
        "pending": false,
        "nick": null,
        "mute": false,
        "joined_at": iso8601(joined),
        "flags": 0,
        "deaf": false,
        "communication_disabled_until": null,
        "banner": null,
        "avatar": null,
    });
    if with_user {
        v["user"] = user(st.user(user_id));
    }
    v
}

pub(super) fn role(r: &super::state::RoleRec, version: u64) -> Value {
    let mut tags = Map::new();
    if let Some(b) = r.bot_id {
        tags.insert("bot_id".into(), json!(b.to_string()));
    }
    json!({
        "version": version,
        "unicode_emoji": null,
        "tags": tags,
        "position": r.position,
        "permissions": r.permissions,
        "name": r.name,
        "mentionable": false,
        "managed": r.bot_id.is_some(),
        "id": r.id.to_string(),
        "icon": null,
        "hoist": false,
        "flags": 0,
        "colors": {"tertiary_color": null, "secondary_color": null, "primary_color": 0},
        "color": 0,
    })
}

fn opt_id(id: Option<u64>) -> Value {
    id.map_or(Value::Null, |i| Value::String(i.to_string()))
}

/// A channel object. `in_guild_create`: the copy inside GUILD_CREATE,
/// which has no `guild_id`.
pub(super) fn channel(st: &State, c: &ChannelRec, in_guild_create: bool) -> Value {
    let mut v = match c.kind {
        ChannelKind::GuildText => json!({
            "id": c.id.to_string(),
            "type": 0,
            "name": c.name,
            "position": c.position,
            "permission_overwrites": [],
            "rate_limit_per_user": 0,
            "nsfw": false,
            "topic": null,
            "last_message_id": opt_id(c.last_message_id),
            "parent_id": null,
            "flags": 0,
            "version": 0,
        }),
        ChannelKind::Dm => json!({
            "id": c.id.to_string(),
            "type": 1,
            "last_message_id": opt_id(c.last_message_id),
            "flags": 0,
            "recipients": c.recipient.map(|r| vec![user(st.user(r))]).unwrap_or_default(),
        }),
        ChannelKind::PublicThread => {
            let t = c.thread.as_ref().expect("a thread has metadata");
            json!({
                "id": c.id.to_string(),
                "type": 11,
                "name": c.name,
                "parent_id": opt_id(c.parent_id),
                "owner_id": t.owner_id.to_string(),
                "last_message_id": opt_id(c.last_message_id),
                "message_count": t.message_count,
                "member_count": 1,
                "rate_limit_per_user": 0,
                "flags": 0,
                "total_message_sent": t.message_count,
                "thread_metadata": {
                    "archived": false,
                    "auto_archive_duration": t.auto_archive_duration,
                    "archive_timestamp": iso8601(t.created_at),
                    "locked": false,
                    "create_timestamp": iso8601(t.created_at),
                },
            })
        }
    };
    if let Some(g) = c.guild_id
        && !(in_guild_create && c.kind == ChannelKind::GuildText)
    {
        v["guild_id"] = json!(g.to_string());
    }
    v
}

/// `{"message_id", "channel_id", "guild_id"}` of a reply or thread starter.
fn reference(st: &State, id: u64) -> Option<Value> {
    let target = st.messages.get(&id)?;
    let mut r = json!({
        "type": 0,
        "message_id": id.to_string(),
        "channel_id": target.channel_id.to_string(),
    });
    if let Some(g) = target.guild_id {
        r["guild_id"] = json!(g.to_string());
    }
    Some(r)
}

/// Attachments as messages show them; `url` is on the fake's own origin (standing in for
/// `https://cdn.discordapp.com`), `proxy_url` as Discord's media proxy would have it.
fn attachments(st: &State, m: &MessageRec) -> Value {
    m.attachments
        .iter()
        .map(|a| {
            let path = format!("attachments/{}/{}/{}", m.channel_id, a.id, a.filename);
            json!({
                "id": a.id,
                "filename": a.filename,
                "size": a.bytes.len(),
                "url": format!("{}/{path}", st.cdn_base),
                "proxy_url": format!("https://media.discordapp.net/{path}"),
                "content_type": a.content_type,
            })
        })
        .collect()
}

/// A message object. `gateway`: with MESSAGE_CREATE's extra fields
/// (`guild_id`, `member`, members of `mentions`, `channel_type`).
pub(super) fn message(st: &State, m: &MessageRec, gateway: bool) -> Value {
    let mut v = message_without_buttons(st, m, gateway);
    if !m.buttons.is_empty() {
        v["components"] = super::components::to_json(&m.buttons);
    }
    v
}

fn message_without_buttons(st: &State, m: &MessageRec, gateway: bool) -> Value {
    let guild = m.guild_id.and_then(|g| st.guilds.get(&g));
    let mentions: Vec<Value> = m
        .mentions
        .iter()
        .map(|id| {
            let mut u = user(st.user(*id));
            if gateway && let Some(g) = guild {
                u["member"] = member(st, g, *id, false);
            }
            u
        })
        .collect();
    let mut v = json!({
        "type": m.kind,
        "tts": false,
        "timestamp": iso8601(snowflake_time(m.id)),
        "pinned": false,
        "mentions": mentions,
        "mention_roles": m.mention_roles.iter().map(u64::to_string).collect::<Vec<_>>(),
        "mention_everyone": m.mention_everyone,
        "id": m.id.to_string(),
        "flags": m.flags,
        "embeds": [],
        "edited_timestamp": m.edited_at.map(iso8601),
        "content": m.content(),
        "components": [],
        "channel_id": m.channel_id.to_string(),
        "author": user(st.user(m.author_id)),
        "attachments": attachments(st, m),
    });
    if let Some(n) = &m.nonce {
        v["nonce"] = n.clone();
    }
    if let Some(r) = m.reference.and_then(|r| reference(st, r)) {
        v["message_reference"] = r;
        if m.kind == 19 || m.kind == 21 {
            v["referenced_message"] = m
                .reference
                .and_then(|r| st.messages.get(&r))
                .filter(|r| !r.deleted)
                .map_or(Value::Null, |r| message(st, r, false));
        }
    }
    if let Some(p) = m.position {
        v["position"] = json!(p);
    }
    if let Some(w) = m.webhook_id {
        v["webhook_id"] = json!(w.to_string());
        v["application_id"] = json!(w.to_string());
    }
    if let Some(i) = m.interaction_id.and_then(|i| st.interactions.get(&i)) {
        v["interaction_metadata"] = json!({
            "id": i.id.to_string(),
            "type": 2,
            "name": i.command_name,
            "command_type": 1,
            "user": user(st.user(i.user_id)),
            "authorizing_integration_owners": owners(i),
        });
    }
    if let Some(t) = m.thread_id.and_then(|t| st.channels.get(&t)) {
        v["thread"] = channel(st, t, false);
    }
    if gateway {
        v["channel_type"] = json!(st.channels.get(&m.channel_id).map_or(0, |c| c.kind.code()));
        if let Some(g) = guild {
            v["guild_id"] = json!(g.id.to_string());
            if m.webhook_id.is_none() {
                v["member"] = member(st, g, m.author_id, false);
            }
        }
    }
    v
}

/// The application object (`/oauth2/applications/@me`).
pub(super) fn application(st: &State, message_content: bool) -> Value {
    json!({
        "id": st.bot_id.to_string(),
        "name": st.bot().username,
        "icon": null,
        "description": "",
        "summary": "",
        "type": null,
        "is_monetized": false,
        "bot_public": false,
        "bot_require_code_grant": false,
        "verify_key": "5f4b1c2d3e6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e",
        "flags": application_flags(message_content),
        "hook": true,
        "bot": user(st.bot()),
        "owner": {"id": "80351110224678912", "username": "owner", "avatar": null,
                  "discriminator": "0", "public_flags": 0, "flags": 0, "global_name": null},
        "team": null,
        "redirect_uris": [],
        "interactions_endpoint_url": null,
        "install_params": {"scopes": ["bot", "applications.commands"], "permissions": "0"},
        "integration_types_config": {"0": {}},
    })
}

/// GATEWAY_MESSAGE_CONTENT_LIMITED (1 << 19) when the toggle is on, as for
/// an unverified app; APPLICATION_COMMAND_BADGE (1 << 23).
pub(super) fn application_flags(message_content: bool) -> u64 {
    (if message_content { 1 << 19 } else { 0 }) | (1 << 23)
}

fn trace(name: &str) -> Value {
    json!([format!(
        "[\"gateway-fake-discord\",{{\"micros\":0,\"calls\":[\"{name}\"]}}]"
    )])
}

pub(super) fn ready(
    st: &State,
    session_id: &str,
    resume_url: &str,
    shard: Option<[u64; 2]>,
    message_content: bool,
) -> Value {
    let guilds: Vec<Value> = st
        .guilds
        .keys()
        .map(|g| json!({"unavailable": true, "id": g.to_string()}))
        .collect();
    let mut v = json!({
        "v": 10,
        "user_settings": {},
        "user": current_user(st.bot()),
        "session_type": "normal",
        "session_id": session_id,
        "resume_gateway_url": resume_url,
        "relationships": [],
        "private_channels": [],
        "presences": [],
        "guilds": guilds,
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": ["loopback"],
        "game_relationships": [],
        "auth": {},
        "application": {"id": st.bot_id.to_string(), "flags": application_flags(message_content)},
        "_trace": trace("ready"),
    });
    if let Some(s) = shard {
        v["shard"] = json!(s);
    }
    v
}

pub(super) fn resumed() -> Value {
    json!({ "_trace": trace("resumed") })
}

pub(super) fn hello(interval_ms: u64) -> String {
    json!({"t": null, "s": null, "op": 10,
           "d": {"heartbeat_interval": interval_ms, "_trace": trace("hello")}})
    .to_string()
}

/// GUILD_CREATE's `d`. Without GUILD_PRESENCES (not grantable here)
/// `members` holds only the bot, as Discord documents.
pub(super) fn guild_create(st: &State, g: &GuildRec) -> Value {
    let version = snowflake_time(g.id)
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let channels: Vec<Value> = st
        .channels
        .values()
        .filter(|c| c.guild_id == Some(g.id) && c.kind == ChannelKind::GuildText)
        .map(|c| channel(st, c, true))
        .collect();
    let threads: Vec<Value> = st
        .channels
        .values()
        .filter(|c| c.guild_id == Some(g.id) && c.kind == ChannelKind::PublicThread)
        .map(|c| channel(st, c, true))
        .collect();
    let system_channel = channels.first().map_or(Value::Null, |c| c["id"].clone());
    let mut v = json!({
        "id": g.id.to_string(),
        "name": g.name,
        "icon": null,
        "owner_id": g.owner_id.to_string(),
        "roles": g.roles.iter().map(|r| role(r, version)).collect::<Vec<_>>(),
        "emojis": [],
        "stickers": [],
        "features": [],
        "members": [member(st, g, st.bot_id, true)],
        "channels": channels,
        "threads": threads,
        "presences": [],
        "voice_states": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "embedded_activities": [],
        "activity_instances": [],
        "joined_at": iso8601(g.joined_at),
        "version": version,
    });
    // Split in two: one `json!` this large exceeds the macro recursion limit.
    let rest = json!({
        "large": false,
        "unavailable": false,
        "lazy": true,
        "member_count": g.members.len(),
        "max_members": 25_000_000,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "preferred_locale": "en-US",
        "region": "deprecated",
        "afk_timeout": 300,
        "afk_channel_id": null,
        "system_channel_id": system_channel,
        "system_channel_flags": 0,
        "rules_channel_id": null,
        "public_updates_channel_id": null,
        "safety_alerts_channel_id": null,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "nsfw": false,
        "nsfw_level": 0,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "premium_progress_bar_enabled": false,
        "application_id": null,
        "application_command_counts": {},
        "description": null,
        "banner": null,
        "splash": null,
        "discovery_splash": null,
        "vanity_url_code": null,
        "hub_type": null,
        "home_header": null,
        "incidents_data": null,
        "latest_onboarding_question_id": null,
        "inventory_settings": null,
        "moderator_reporting": null,
        "premium_features": null,
        "profile": null,
        "owner_configured_content_level": 0,
    });
    if let (Some(m), Value::Object(r)) = (v.as_object_mut(), rest) {
        m.extend(r);
    }
    v
}

/// The role ids `@everyone` and the bot's managed role get in a new guild.
pub(super) fn default_permissions() -> (&'static str, &'static str) {
    (EVERYONE_PERMISSIONS, BOT_PERMISSIONS)
}

fn owners(i: &InteractionRec) -> Value {
    json!({ "0": i.guild_id.map_or_else(|| "0".to_string(), |g| g.to_string()) })
}

/// INTERACTION_CREATE's `d` for a slash command.
pub(super) fn interaction(
    st: &State,
    i: &InteractionRec,
    command_id: u64,
    options: &Value,
) -> Value {
    let ch = st.channel(i.channel_id);
    let mut data = json!({
        "id": command_id.to_string(),
        "name": i.command_name,
        "type": 1,
    });
    if options.as_array().is_some_and(|o| !o.is_empty()) {
        data["options"] = options.clone();
    }
    let guild_command = st
        .commands
        .iter()
        .find(|c| c.id == command_id)
        .and_then(|c| c.guild_id);
    if let Some(g) = guild_command {
        data["guild_id"] = json!(g.to_string());
    }
    let mut partial_channel = channel(st, ch, false);
    partial_channel["permissions"] = json!(BOT_PERMISSIONS);
    let mut v = json!({
        "app_permissions": BOT_PERMISSIONS,
        "application_id": st.bot_id.to_string(),
        "attachment_size_limit": 10_485_760,
        "authorizing_integration_owners": owners(i),
        "channel": partial_channel,
        "channel_id": i.channel_id.to_string(),
        "context": if i.guild_id.is_some() { 0 } else { 1 },
        "data": data,
        "entitlement_sku_ids": [],
        "entitlements": [],
        "id": i.id.to_string(),
        "locale": "en-US",
        "token": i.token,
        "type": 2,
        "version": 1,
    });
    match i.guild_id.and_then(|g| st.guilds.get(&g)) {
        Some(g) => {
            let mut m = member(st, g, i.user_id, true);
            m["permissions"] = json!(EVERYONE_PERMISSIONS);
            v["member"] = m;
            v["guild_id"] = json!(g.id.to_string());
            v["guild_locale"] = json!("en-US");
            v["guild"] = json!({"id": g.id.to_string(), "locale": "en-US", "features": []});
        }
        None => v["user"] = user(st.user(i.user_id)),
    }
    v
}
