//! How updates leave the fake, as far as the bot's calls go: getUpdates
//! (offsets, long polling, 409 conflicts) and the webhook settings
//! (setWebhook, deleteWebhook, getWebhookInfo). The POSTs themselves are in
//! `delivery`.

use std::time::Duration;

use serde_json::{Value, json};

use super::methods::{ApiError, Cx, Method, Reply, Success, record_call};
use super::params::Params;
use super::state::{PendingUpdate, Shared, State, Webhook, unix};

pub(super) fn set_webhook(cx: &mut Cx, p: &Params) -> Reply {
    let url = p.string("url")?.unwrap_or_default();
    if url.is_empty() {
        return delete_webhook(cx, p);
    }
    if url.starts_with("https://") {
        return Err(ApiError::bad_request(
            "bad webhook: the fake Telegram server delivers only to http:// URLs",
        ));
    }
    if !url.starts_with("http://") {
        return Err(ApiError::bad_request(
            "bad webhook: An HTTPS URL must be provided for webhook",
        ));
    }
    let secret_token = p.string("secret_token")?.filter(|s| !s.is_empty());
    if let Some(secret) = &secret_token {
        let valid = secret.len() <= 256
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            return Err(ApiError::bad_request(
                "secret token contains unallowed characters",
            ));
        }
    }
    let max_connections = p.int("max_connections")?.unwrap_or(40).clamp(1, 100) as u32;
    if let Some(list) = allowed_updates(p)? {
        cx.st.allowed_updates = Some(list);
    }
    if p.bool("drop_pending_updates")? {
        cx.st.pending.clear();
    }
    let already = cx.st.webhook.as_ref().is_some_and(|w| w.url == url);
    cx.st.webhook = Some(Webhook {
        url,
        secret_token,
        max_connections,
    });
    cx.st.webhook_last_error = None;
    Ok(Success {
        result: json!(true),
        description: Some(if already {
            "Webhook is already set"
        } else {
            "Webhook was set"
        }),
    })
}

pub(super) fn delete_webhook(cx: &mut Cx, p: &Params) -> Reply {
    if p.bool("drop_pending_updates")? {
        cx.st.pending.clear();
    }
    let was_set = cx.st.webhook.take().is_some();
    cx.st.webhook_last_error = None;
    Ok(Success {
        result: json!(true),
        description: Some(if was_set {
            "Webhook was deleted"
        } else {
            "Webhook is already deleted"
        }),
    })
}

fn allowed_updates(p: &Params) -> Result<Option<Vec<String>>, ApiError> {
    match p.json("allowed_updates")? {
        None => Ok(None),
        Some(Value::Array(list)) => Ok(Some(
            list.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
        )),
        Some(_) => Err(ApiError::bad_request(
            "can't parse allowed updates JSON object",
        )),
    }
}

pub(super) fn webhook_info(st: &State) -> Value {
    let mut info = json!({
        "url": st.webhook.as_ref().map(|w| w.url.clone()).unwrap_or_default(),
        "has_custom_certificate": false,
        "pending_update_count": st.pending.len(),
    });
    if let Some(w) = &st.webhook {
        info["ip_address"] = json!("127.0.0.1");
        info["max_connections"] = json!(w.max_connections);
        if let Some(list) = &st.allowed_updates {
            info["allowed_updates"] = json!(list);
        }
    }
    if let Some((at, message)) = &st.webhook_last_error {
        info["last_error_date"] = json!(unix(*at));
        info["last_error_message"] = json!(message);
    }
    info
}

const WEBHOOK_ACTIVE: &str = "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";
const TERMINATED: &str =
    "terminated by other getUpdates request; make sure that only one bot instance is running";

/// Long polling. Each call takes a new generation; an older call still
/// waiting sees the newer generation and answers 409, as Telegram does.
pub(super) async fn get_updates(shared: &Shared, p: &Params, connection: u64) -> Reply {
    let (arrived, at) = shared.clock.now();
    let finish = |state: &mut State, reply: Reply| {
        record_call(
            state,
            (Method::GetUpdates.name(), connection),
            None,
            at,
            reply.as_ref().map(|_| None).map_err(|e| (e, None)),
        );
        reply
    };
    let parsed = (|| {
        let offset = p.int("offset")?.unwrap_or(0);
        let limit = p.int("limit")?.unwrap_or(100).clamp(1, 100) as usize;
        let timeout = p.int("timeout")?.unwrap_or(0).max(0) as u64;
        Ok::<_, ApiError>((offset, limit, timeout, allowed_updates(p)?))
    })();
    let (offset, limit, timeout, allowed) = match parsed {
        Ok(v) => v,
        Err(e) => return finish(&mut shared.lock(), Err(e)),
    };
    let deadline = arrived + Duration::from_secs(timeout);
    let (generation, lost) = {
        let mut st = shared.lock();
        if st.webhook.is_some() {
            return finish(&mut st, Err(ApiError::conflict(WEBHOOK_ACTIVE)));
        }
        if let Some(list) = allowed {
            st.allowed_updates = Some(list);
        }
        st.confirm(offset);
        st.poll_generation += 1;
        let lost = st.polls_to_lose > 0;
        if lost {
            st.polls_to_lose -= 1;
            st.polls_lost += 1;
        }
        (st.poll_generation, lost)
    };
    let mut changes = shared.updates_changed.subscribe();
    // Wakes any older getUpdates so it can step aside.
    shared.notify_updates();
    let mut parked = None;
    loop {
        {
            let mut st = shared.lock();
            if st.poll_generation != generation {
                let reply = finish(&mut st, Err(ApiError::conflict(TERMINATED)));
                drop(st);
                shared.notify_changed();
                return reply;
            }
            if st.webhook.is_some() {
                let reply = finish(&mut st, Err(ApiError::conflict(WEBHOOK_ACTIVE)));
                drop(st);
                shared.notify_changed();
                return reply;
            }
            st.drop_unwanted_head();
            let (now, now_at) = shared.clock.now();
            let allowed: Vec<PendingUpdate> = st
                .pending
                .iter()
                .filter(|u| st.is_allowed(u.kind))
                .take(limit)
                .cloned()
                .collect();
            if !lost && (!allowed.is_empty() || now >= deadline) {
                for u in &allowed {
                    st.mark_delivered(u.update_id, now_at);
                }
                let batch: Vec<Value> = allowed.into_iter().map(|u| u.json).collect();
                let reply = finish(&mut st, Ok(json!(batch).into()));
                drop(st);
                shared.notify_changed();
                return reply;
            }
        }
        if parked.is_none() {
            parked = Some(Parked::new(shared));
        }
        // At the deadline, one more pass answers with whatever is there (a lost poll waits
        // for changes only: a newer call).
        if lost {
            let _ = changes.changed().await;
        } else {
            let _ = tokio::time::timeout_at(deadline, changes.changed()).await;
        }
    }
}

/// Counts a getUpdates call as parked (waiting for updates) while it lives,
/// for `FakeTelegram::wait_until_polling`; dropped when the call answers or
/// the client goes away.
struct Parked<'a>(&'a Shared);

impl<'a> Parked<'a> {
    fn new(shared: &'a Shared) -> Self {
        shared.lock().polls_waiting += 1;
        shared.notify_changed();
        Self(shared)
    }
}

impl Drop for Parked<'_> {
    fn drop(&mut self) {
        self.0.lock().polls_waiting -= 1;
        self.0.notify_changed();
    }
}
