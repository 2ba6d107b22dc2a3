//! What the Discord gateway sends: a frame, and its `d` read as every object the bot reads
//! (HELLO, READY, a message in each kind of place, an interaction, a guild, a channel), then
//! translated for the bot.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use switchboard::bots::discord::payload::{
    Channel, Frame, GuildCreate, Hello, Interaction, Message, Ready,
};
use switchboard::bots::discord::translate::{
    DiscordMe, Place, thread_name, translate_interaction, translate_message, worth_reading,
};
use switchboard::domain::inbound::Inbound;

fn named(inbound: Option<Inbound>) {
    if let Some(inbound) = inbound {
        let _ = thread_name(&inbound);
    }
}

fn objects(d: &Value) {
    let me = DiscordMe {
        user_id: "100".into(),
        application_id: "200".into(),
        allowed_bots: vec!["300".into()],
    };
    let _ = serde_json::from_value::<Hello>(d.clone());
    let _ = serde_json::from_value::<Ready>(d.clone());
    let _ = serde_json::from_value::<GuildCreate>(d.clone());
    let _ = serde_json::from_value::<Channel>(d.clone());
    if let Ok(message) = serde_json::from_value::<Message>(d.clone()) {
        let _ = worth_reading(&message, &me);
        for place in [
            Place::Dm,
            Place::Channel,
            Place::Thread {
                parent: "400".into(),
            },
        ] {
            let _ = translate_message(&message, &place, &me);
        }
    }
    if let Ok(interaction) = serde_json::from_value::<Interaction>(d.clone()) {
        named(translate_interaction(&interaction));
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = serde_json::from_slice::<Frame>(data) {
        objects(&frame.d);
    }
    // Fixtures of bare objects (a dispatch's `d`) seed this too.
    if let Ok(d) = serde_json::from_slice::<Value>(data) {
        objects(&d);
    }
});
