-- Small pieces of state a platform adapter keeps across restarts, by key: the Discord gateway's
-- session (id, resume URL, last sequence number), so a restarted bot resumes the session and
-- Discord replays what it missed instead of starting afresh. JSON as text.
CREATE TABLE platform_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
