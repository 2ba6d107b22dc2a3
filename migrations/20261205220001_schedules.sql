-- Scheduled prompts (core::schedules): a cron expression in a time zone, the thread its prompt
-- is queued into, who made it (`config` for `[[schedules]]`). `last_fired_at`: the scheduler's
-- clock when it last queued the prompt, so a restart after missed slots runs it once (the
-- next slot after this time, if past, fires once and moves it to now).
CREATE TABLE schedules (
    id            TEXT PRIMARY KEY,
    platform      TEXT NOT NULL,
    chat          TEXT NOT NULL,
    topic         TEXT,
    cron          TEXT NOT NULL,
    time_zone     TEXT NOT NULL,
    prompt        TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    from_config   BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_fired_at BIGINT
);
CREATE INDEX schedules_by_thread ON schedules (platform, chat);
