//! Hands events and slash commands to the transport the app uses now:
//! Socket Mode envelopes (`outbox`) or signed HTTP POSTs (`http_delivery`).
//! Called with the state locked, in the order things happened.

use std::sync::Arc;

use super::config::Delivery;
use super::state::{Item, Shared, State};
use super::{http_delivery, outbox};

pub(super) fn enqueue(sh: &Arc<Shared>, st: &mut State, items: Vec<Item>) {
    for item in items {
        match st.delivery.clone() {
            Delivery::SocketMode => outbox::add(sh, st, item),
            Delivery::Http {
                events_url,
                commands_url,
            } => {
                let url = match &item {
                    Item::Event { .. } => events_url,
                    Item::Command { .. } => commands_url.unwrap_or(events_url),
                    Item::Interaction { .. } => st
                        .interactivity_url
                        .clone()
                        .expect("presses over HTTP need the interactivity URL"),
                };
                http_delivery::spawn(sh, item, url);
            }
        }
    }
}
