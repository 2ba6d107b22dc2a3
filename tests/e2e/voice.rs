//! Voice notes and audio files: transcribed by the configured speech-to-text service (a fake
//! OpenAI-compatible endpoint that checks the key and the multipart fields), echoed in the
//! thread, and run as the prompt (Telegram, Slack, Discord); a failing service or a missing `[transcription]` is told to
//! the user with nothing queued. The client itself is tested against the same fake.

use std::time::Duration;

use switchboard::config::{Secret, TranscriptionConfig};
use switchboard::core::transcription::Transcriber;

use crate::support::db::{Db, on_both_databases};
use crate::support::discord_world::DiscordSetup;
use crate::support::fake_discord::UserMessage as DiscordMessage;
use crate::support::fake_telegram::UserMessage;
use crate::support::fake_transcription::FakeTranscription;
use crate::support::harness::{Harness, Options, WAIT};
use crate::support::slack_world::SlackSetup;

on_both_databases!(
    a_voice_note_reaches_the_agent_as_its_transcript,
    a_failing_service_is_told_and_nothing_is_queued,
    without_transcription_the_refusal_says_how_to_turn_it_on,
    a_slack_audio_file_reaches_the_agent_as_its_transcript,
    a_discord_audio_attachment_reaches_the_agent_as_its_transcript,
);

const KEY: &str = "sk-test-transcription-key";

/// Some bytes standing for a recording (the fake reads no audio).
fn recording() -> Vec<u8> {
    (0..4000u32).map(|i| (i % 251) as u8).collect()
}

/// The fake endpoint, and options whose config points at it with its key in a file (the
/// directory holding the file is returned to be kept).
async fn with_transcription(db: Db) -> (FakeTranscription, Options, tempfile::TempDir) {
    let fake = FakeTranscription::start(KEY, "Run the tests, please.").await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("transcription.key");
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    let mut options = Options::new(db);
    options.extra_config = format!(
        "[transcription]\napi_url = \"{}\"\nlanguage = \"en\"\napi_key_file = \"{}\"\n",
        fake.url(),
        key_file.display()
    );
    (fake, options, dir)
}

/// A voice note without a caption: its transcript is echoed as a reply and is the prompt, byte
/// for byte; one with a caption runs as the caption and then the transcript.
async fn a_voice_note_reaches_the_agent_as_its_transcript(db: Db) {
    let (fake, options, _key) = with_transcription(db).await;
    let t = Harness::start_with(options).await;

    let sent = t.tg.send(
        &t.chat,
        &t.alice,
        UserMessage::new("").with_voice(recording()),
    );
    let echo = t.next().await;
    assert_eq!(echo.text, "🎙 “Run the tests, please.”");
    assert_eq!(echo.reply_to, Some(sent.message_id));
    t.next().await;
    assert!(
        t.next()
            .await
            .text
            .starts_with("Echo #1: Run the tests, please.")
    );
    let runs = t.wait_agent_runs(1).await;
    assert_eq!(runs[0].prompt, b"Run the tests, please.");
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].file_name, "voice.ogg");
    assert_eq!(requests[0].audio, recording());
    assert_eq!(requests[0].model, "whisper-1");
    assert_eq!(requests[0].language.as_deref(), Some("en"));
    // Nothing of a voice note lands in the workspace inbox.
    assert!(!runs[0].cwd.join(".switchboard/inbox").exists());

    fake.set_transcript("and then `rm -rf /` $(whoami)");
    t.tg.send(
        &t.chat,
        &t.alice,
        UserMessage::new("From the standup:").with_voice(recording()),
    );
    assert_eq!(t.next().await.text, "🎙 “and then `rm -rf /` $(whoami)”");
    t.next().await;
    t.next().await;
    let runs = t.wait_agent_runs(2).await;
    assert_eq!(
        String::from_utf8(runs[1].prompt.clone()).unwrap(),
        "From the standup:\n\nand then `rm -rf /` $(whoami)"
    );
    assert!(runs[1].resumed, "the voice note continues the conversation");
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// The service answering 500 or 429: the user is told why, nothing runs; sent again once the
/// service is back, the note runs.
async fn a_failing_service_is_told_and_nothing_is_queued(db: Db) {
    let (fake, options, _key) = with_transcription(db).await;
    let t = Harness::start_with(options).await;

    fake.fail_with(Some(500));
    t.tg.send(
        &t.chat,
        &t.alice,
        UserMessage::new("").with_voice(recording()),
    );
    assert_eq!(
        t.next().await.text,
        "🎙 I could not transcribe voice.ogg: the speech-to-text service answered 500 Internal \
         Server Error: The server had an error while processing your request. Nothing was sent \
         to the agent; please send it again."
    );
    fake.fail_with(Some(429));
    t.tg.send(
        &t.chat,
        &t.alice,
        UserMessage::new("").with_voice(recording()),
    );
    let refused = t.next().await.text;
    assert!(
        refused.contains("answered 429 Too Many Requests: Rate limit reached"),
        "{refused}"
    );
    assert!(t.agent_runs().is_empty());

    fake.fail_with(None);
    t.tg.send(
        &t.chat,
        &t.alice,
        UserMessage::new("").with_voice(recording()),
    );
    assert_eq!(t.next().await.text, "🎙 “Run the tests, please.”");
    t.next().await;
    assert!(
        t.next()
            .await
            .text
            .starts_with("Echo #1: Run the tests, please.")
    );
    assert_eq!(t.wait_agent_runs(1).await.len(), 1);
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// No `[transcription]`: the reply says how to turn it on, and nothing runs; text still does.
async fn without_transcription_the_refusal_says_how_to_turn_it_on(db: Db) {
    let t = Harness::start(db).await;
    t.tg.send(
        &t.chat,
        &t.alice,
        UserMessage::new("").with_voice(recording()),
    );
    let refusal = t.next().await.text;
    assert!(
        refusal.starts_with("🎙 I cannot listen to voice.ogg yet: speech to text is off.")
            && refusal.contains("[transcription]")
            && refusal.contains("TRANSCRIPTION_API_KEY"),
        "{refusal}"
    );
    t.say("typed instead");
    t.next().await;
    assert!(t.next().await.text.starts_with("Echo #1: typed instead"));
    assert_eq!(t.agent_runs().len(), 1);
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// An audio file shared with a mention on Slack is fetched with the bot token, transcribed,
/// echoed in the thread and run as the prompt after the caption.
async fn a_slack_audio_file_reaches_the_agent_as_its_transcript(db: Db) {
    let (fake, mut options, _key) = with_transcription(db).await;
    options.slack = Some(SlackSetup::default());
    let t = Harness::start_with(options).await;
    let s = t.slack.as_ref().expect("the fake Slack");
    let bot = s.fake.bot_user();

    let root = s
        .fake
        .user_shares(
            &s.channel,
            &s.alice,
            &format!("{} listen", bot.mention()),
            None,
            ("memo.m4a", recording()),
        )
        .await;
    s.wait_text(&s.channel, Some(&root), "🎙 “Run the tests, please.”")
        .await;
    s.wait_text(&s.channel, Some(&root), "Echo #1").await;
    let runs = t.wait_agent_runs(1).await;
    assert_eq!(runs[0].prompt, b"listen\n\nRun the tests, please.");
    let requests = fake.wait_requests(1, WAIT).await;
    assert_eq!(requests[0].file_name, "memo.m4a");
    assert_eq!(requests[0].audio, recording());
    s.assert_no_violations();
}

/// An audio attachment sent with a mention on Discord: transcribed, echoed in the thread the
/// mention starts, and run as the prompt after the caption.
async fn a_discord_audio_attachment_reaches_the_agent_as_its_transcript(db: Db) {
    let (fake, mut options, _key) = with_transcription(db).await;
    options.discord = Some(DiscordSetup::default());
    let t = Harness::start_with(options).await;
    let d = t.discord.as_ref().expect("the fake Discord");

    let root = d.fake.user_says_with(
        &d.channel,
        &d.alice,
        DiscordMessage::new(&format!("{} listen", d.bot.mention()))
            .with_file("memo.ogg", recording()),
    );
    let thread = d.thread_of(&root).await;
    d.wait_text(&thread, "🎙 “Run the tests, please.”").await;
    d.wait_text(&thread, "Echo #1").await;
    let runs = t.wait_agent_runs(1).await;
    assert_eq!(runs[0].prompt, b"listen\n\nRun the tests, please.");
    let requests = fake.wait_requests(1, WAIT).await;
    assert_eq!(requests[0].file_name, "memo.ogg");
    assert_eq!(requests[0].audio, recording());
    d.assert_no_violations();
}

/// The client against the fake: the transcript trimmed; a wrong key, a failing service and an
/// unreachable one each an error that names the cause and never the key.
#[tokio::test]
async fn the_client_sends_the_audio_and_reads_the_transcript_or_the_error() {
    let fake = FakeTranscription::start(KEY, "  hello\0 there \n").await;
    let config = |url: String| -> TranscriptionConfig {
        toml::from_str(&format!(
            "api_url = \"{url}/\"\nmodel = \"whisper-large\"\ntimeout = \"5s\""
        ))
        .unwrap()
    };
    let client = Transcriber::new(&config(fake.url()), Some(Secret::new(KEY))).unwrap();
    let text = client
        .transcribe("note.ogg", b"OggS".to_vec())
        .await
        .unwrap();
    assert_eq!(text, "hello there");
    let requests = fake.requests();
    assert_eq!(requests[0].model, "whisper-large");
    assert_eq!(requests[0].language, None);
    assert_eq!(requests[0].audio, b"OggS");

    let wrong = Transcriber::new(&config(fake.url()), Some(Secret::new("sk-wrong"))).unwrap();
    let error = wrong
        .transcribe("note.ogg", b"OggS".to_vec())
        .await
        .unwrap_err();
    let error = format!("{error:#}");
    assert!(
        error.contains("401 Unauthorized: Incorrect API key"),
        "{error}"
    );
    assert!(!error.contains("sk-wrong"), "{error}");

    fake.fail_with(Some(503));
    let error = client
        .transcribe("note.ogg", b"OggS".to_vec())
        .await
        .unwrap_err();
    assert!(
        format!("{error:#}").contains("503 Service Unavailable"),
        "{error:#}"
    );
    assert_eq!(fake.requests().len(), 1);

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let unreachable = Transcriber::new(&config(url), Some(Secret::new(KEY))).unwrap();
    let error = tokio::time::timeout(
        Duration::from_secs(20),
        unreachable.transcribe("note.ogg", b"OggS".to_vec()),
    )
    .await
    .expect("an answer")
    .unwrap_err();
    let error = format!("{error:#}");
    assert!(
        error.starts_with("the speech-to-text service did not answer"),
        "{error}"
    );
    assert!(!error.contains(KEY), "{error}");
}
