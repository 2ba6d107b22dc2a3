//! The REST endpoints the fake serves, as a pure parse of method and path
//! (below `/api/v10`), and what each one means for authentication and rate
//! limits.

use axum::http::Method;

use super::config::{BucketLimit, RouteLimits};

/// A family of routes that shares a rate-limit bucket (per major parameter)
/// and can be stormed as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteKind {
    /// `GET /gateway`, `GET /gateway/bot`.
    Gateway,
    /// `GET /users/@me`, `GET /oauth2/applications/@me`, `GET /applications/@me`.
    Identity,
    /// `GET /channels/{id}`.
    GetChannel,
    /// `GET /channels/{id}/messages` and `…/messages/{id}`.
    ReadMessages,
    CreateMessage,
    EditMessage,
    DeleteMessage,
    /// `POST /channels/{id}/messages/{id}/threads`.
    CreateThread,
    Typing,
    /// Adding and removing the bot's own reactions.
    Reaction,
    /// `GET` of global or guild commands.
    GetCommands,
    /// Bulk overwrite of global or guild commands.
    OverwriteCommands,
    /// `POST /interactions/{id}/{token}/callback`.
    InteractionCallback,
    /// Follow-ups and original-response reads/edits/deletes.
    Webhook,
}

impl RouteKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Gateway => "gateway",
            Self::Identity => "identity",
            Self::GetChannel => "get_channel",
            Self::ReadMessages => "read_messages",
            Self::CreateMessage => "create_message",
            Self::EditMessage => "edit_message",
            Self::DeleteMessage => "delete_message",
            Self::CreateThread => "create_thread",
            Self::Typing => "typing",
            Self::Reaction => "reaction",
            Self::GetCommands => "get_commands",
            Self::OverwriteCommands => "overwrite_commands",
            Self::InteractionCallback => "interaction_callback",
            Self::Webhook => "webhook",
        }
    }

    pub(super) fn limit(self, l: &RouteLimits) -> BucketLimit {
        match self {
            Self::CreateMessage => l.message_create,
            Self::EditMessage => l.message_edit,
            Self::DeleteMessage => l.message_delete,
            Self::Typing => l.typing,
            Self::Reaction => l.reaction,
            Self::CreateThread => l.thread_create,
            Self::OverwriteCommands => l.commands_overwrite,
            Self::InteractionCallback | Self::Webhook => l.webhook,
            Self::Gateway
            | Self::Identity
            | Self::GetChannel
            | Self::ReadMessages
            | Self::GetCommands => l.other,
        }
    }

    /// Interaction endpoints are not bound to the global limit.
    pub(super) fn counts_globally(self) -> bool {
        !matches!(self, Self::InteractionCallback | Self::Webhook)
    }

    /// `X-RateLimit-Bucket` of the bucket this kind leads (see
    /// `FakeDiscordConfig::shared_buckets`): an opaque hash, stable across
    /// runs and not including the major parameter, like Discord's.
    pub(super) fn bucket_hash(self) -> String {
        // FNV-1a, 64 bits, twice with different seeds for 32 hex digits.
        let fnv = |seed: u64| {
            self.name().bytes().fold(seed, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
            })
        };
        format!(
            "{:016x}{:016x}",
            fnv(0xcbf2_9ce4_8422_2325),
            fnv(0x8422_2325_cbf2_9ce4)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Route {
    GetGateway,
    GetGatewayBot,
    GetCurrentUser,
    GetApplication,
    GetChannel {
        channel: String,
    },
    ListMessages {
        channel: String,
    },
    GetMessage {
        channel: String,
        message: String,
    },
    CreateMessage {
        channel: String,
    },
    EditMessage {
        channel: String,
        message: String,
    },
    DeleteMessage {
        channel: String,
        message: String,
    },
    CreateThread {
        channel: String,
        message: String,
    },
    Typing {
        channel: String,
    },
    AddReaction {
        channel: String,
        message: String,
        emoji: String,
    },
    RemoveReaction {
        channel: String,
        message: String,
        emoji: String,
    },
    GetCommands {
        app: String,
        guild: Option<String>,
    },
    OverwriteCommands {
        app: String,
        guild: Option<String>,
    },
    InteractionCallback {
        interaction: String,
        token: String,
    },
    CreateFollowup {
        app: String,
        token: String,
    },
    /// `message` is `@original` or a follow-up's id.
    GetWebhookMessage {
        app: String,
        token: String,
        message: String,
    },
    EditWebhookMessage {
        app: String,
        token: String,
        message: String,
    },
    DeleteWebhookMessage {
        app: String,
        token: String,
        message: String,
    },
}

impl Route {
    /// Parses the path below `/api/v10` (segments already percent-decoded).
    pub fn parse(method: &Method, segs: &[&str]) -> Option<Self> {
        let s = |x: &str| x.to_string();
        let m = method.clone();
        Some(match (m, segs) {
            (Method::GET, ["gateway"]) => Self::GetGateway,
            (Method::GET, ["gateway", "bot"]) => Self::GetGatewayBot,
            (Method::GET, ["users", "@me"]) => Self::GetCurrentUser,
            (Method::GET, ["oauth2", "applications", "@me"] | ["applications", "@me"]) => {
                Self::GetApplication
            }
            (Method::GET, ["channels", c]) => Self::GetChannel { channel: s(c) },
            (Method::GET, ["channels", c, "messages"]) => Self::ListMessages { channel: s(c) },
            (Method::POST, ["channels", c, "messages"]) => Self::CreateMessage { channel: s(c) },
            (Method::GET, ["channels", c, "messages", m]) => Self::GetMessage {
                channel: s(c),
                message: s(m),
            },
            (Method::PATCH, ["channels", c, "messages", m]) => Self::EditMessage {
                channel: s(c),
                message: s(m),
            },
            (Method::DELETE, ["channels", c, "messages", m]) => Self::DeleteMessage {
                channel: s(c),
                message: s(m),
            },
            (Method::POST, ["channels", c, "messages", m, "threads"]) => Self::CreateThread {
                channel: s(c),
                message: s(m),
            },
            (Method::POST, ["channels", c, "typing"]) => Self::Typing { channel: s(c) },
            (Method::PUT, ["channels", c, "messages", m, "reactions", e, "@me"]) => {
                Self::AddReaction {
                    channel: s(c),
                    message: s(m),
                    emoji: s(e),
                }
            }
            (Method::DELETE, ["channels", c, "messages", m, "reactions", e, "@me"]) => {
                Self::RemoveReaction {
                    channel: s(c),
                    message: s(m),
                    emoji: s(e),
                }
            }
            (Method::GET, ["applications", a, "commands"]) => Self::GetCommands {
                app: s(a),
                guild: None,
            },
            (Method::PUT, ["applications", a, "commands"]) => Self::OverwriteCommands {
                app: s(a),
                guild: None,
            },
            (Method::GET, ["applications", a, "guilds", g, "commands"]) => Self::GetCommands {
                app: s(a),
                guild: Some(s(g)),
            },
            (Method::PUT, ["applications", a, "guilds", g, "commands"]) => {
                Self::OverwriteCommands {
                    app: s(a),
                    guild: Some(s(g)),
                }
            }
            (Method::POST, ["interactions", i, t, "callback"]) => Self::InteractionCallback {
                interaction: s(i),
                token: s(t),
            },
            (Method::POST, ["webhooks", a, t]) => Self::CreateFollowup {
                app: s(a),
                token: s(t),
            },
            (Method::GET, ["webhooks", a, t, "messages", m]) => Self::GetWebhookMessage {
                app: s(a),
                token: s(t),
                message: s(m),
            },
            (Method::PATCH, ["webhooks", a, t, "messages", m]) => Self::EditWebhookMessage {
                app: s(a),
                token: s(t),
                message: s(m),
            },
            (Method::DELETE, ["webhooks", a, t, "messages", m]) => Self::DeleteWebhookMessage {
                app: s(a),
                token: s(t),
                message: s(m),
            },
            _ => return None,
        })
    }

    pub fn kind(&self) -> RouteKind {
        match self {
            Self::GetGateway | Self::GetGatewayBot => RouteKind::Gateway,
            Self::GetCurrentUser | Self::GetApplication => RouteKind::Identity,
            Self::GetChannel { .. } => RouteKind::GetChannel,
            Self::ListMessages { .. } | Self::GetMessage { .. } => RouteKind::ReadMessages,
            Self::CreateMessage { .. } => RouteKind::CreateMessage,
            Self::EditMessage { .. } => RouteKind::EditMessage,
            Self::DeleteMessage { .. } => RouteKind::DeleteMessage,
            Self::CreateThread { .. } => RouteKind::CreateThread,
            Self::Typing { .. } => RouteKind::Typing,
            Self::AddReaction { .. } | Self::RemoveReaction { .. } => RouteKind::Reaction,
            Self::GetCommands { .. } => RouteKind::GetCommands,
            Self::OverwriteCommands { .. } => RouteKind::OverwriteCommands,
            Self::InteractionCallback { .. } => RouteKind::InteractionCallback,
            Self::CreateFollowup { .. }
            | Self::GetWebhookMessage { .. }
            | Self::EditWebhookMessage { .. }
            | Self::DeleteWebhookMessage { .. } => RouteKind::Webhook,
        }
    }

    /// The bucket's major parameter.
    pub fn major(&self) -> String {
        match self {
            Self::GetGateway
            | Self::GetGatewayBot
            | Self::GetCurrentUser
            | Self::GetApplication => String::new(),
            Self::GetChannel { channel }
            | Self::ListMessages { channel }
            | Self::GetMessage { channel, .. }
            | Self::CreateMessage { channel }
            | Self::EditMessage { channel, .. }
            | Self::DeleteMessage { channel, .. }
            | Self::CreateThread { channel, .. }
            | Self::Typing { channel }
            | Self::AddReaction { channel, .. }
            | Self::RemoveReaction { channel, .. } => channel.clone(),
            Self::GetCommands { app, guild } | Self::OverwriteCommands { app, guild } => {
                guild.clone().unwrap_or_else(|| app.clone())
            }
            Self::InteractionCallback { interaction, token } => format!("{interaction}/{token}"),
            Self::CreateFollowup { app, token }
            | Self::GetWebhookMessage { app, token, .. }
            | Self::EditWebhookMessage { app, token, .. }
            | Self::DeleteWebhookMessage { app, token, .. } => format!("{app}/{token}"),
        }
    }

    /// Routes authenticated by the bot token; the others carry a token in
    /// the path (or, `GET /gateway`, none).
    pub fn needs_bot_token(&self) -> bool {
        !matches!(
            self.kind(),
            RouteKind::InteractionCallback | RouteKind::Webhook
        ) && *self != Self::GetGateway
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(method: Method, path: &str) -> Option<Route> {
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        Route::parse(&method, &segs)
    }

    #[test]
    fn paths_and_methods() {
        assert_eq!(
            parse(Method::GET, "/gateway/bot"),
            Some(Route::GetGatewayBot)
        );
        assert_eq!(
            parse(Method::PUT, "/channels/1/messages/2/reactions/👍/@me"),
            Some(Route::AddReaction {
                channel: "1".into(),
                message: "2".into(),
                emoji: "👍".into()
            })
        );
        assert_eq!(
            parse(Method::PATCH, "/webhooks/9/tok/messages/@original"),
            Some(Route::EditWebhookMessage {
                app: "9".into(),
                token: "tok".into(),
                message: "@original".into()
            })
        );
        assert_eq!(parse(Method::GET, "/channels/1/typing"), None);
        assert_eq!(parse(Method::POST, "/channels/1/messages/2"), None);
    }

    #[test]
    fn buckets_and_auth() {
        let create = parse(Method::POST, "/channels/5/messages").unwrap();
        assert_eq!(create.kind(), RouteKind::CreateMessage);
        assert_eq!(create.major(), "5");
        assert!(create.needs_bot_token());
        let cb = parse(Method::POST, "/interactions/7/tok/callback").unwrap();
        assert!(!cb.needs_bot_token());
        assert!(!cb.kind().counts_globally());
        assert!(!Route::GetGateway.needs_bot_token());
        assert_eq!(RouteKind::Typing.bucket_hash().len(), 32);
        assert_ne!(
            RouteKind::Typing.bucket_hash(),
            RouteKind::CreateMessage.bucket_hash()
        );
    }
}
