//! What Slack sends, as each intake reads it: a Socket Mode frame and its envelope's payload, an
//! Events API callback, a slash command's form body — parsed and translated for the bot.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard::bots::slack::payload::{Callback, Frame, SlashCommand};
use switchboard::bots::slack::translate::{SlackMe, translate_command, translate_event};

fn me() -> SlackMe {
    SlackMe {
        team_id: "T1".into(),
        user_id: "UBOT".into(),
        bot_id: "BBOT".into(),
        allowed_bots: vec!["BOTHER".into()],
    }
}

fn callback(callback: &Callback) {
    if let Callback::EventCallback { team_id, event, .. } = callback {
        let _ = translate_event(team_id, event, &me());
    }
}

fn command(command: &SlashCommand) {
    let _ = translate_command(command);
}

fn frame(frame: Frame) {
    if let Ok(c) = serde_json::from_value::<Callback>(frame.payload.clone()) {
        callback(&c);
    }
    if let Ok(c) = serde_json::from_value::<SlashCommand>(frame.payload) {
        command(&c);
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = serde_json::from_slice::<Frame>(data) {
        frame(f);
    }
    if let Ok(c) = serde_json::from_slice::<Callback>(data) {
        callback(&c);
    }
    if let Some(c) = SlashCommand::from_form(data) {
        command(&c);
    }
});
