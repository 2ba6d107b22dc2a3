-- CI feedback (core::ci_watch): a commit `/pr` pushed, watched until its checks end and the
-- session's thread is told how. One row per session and pushed commit, so a `/pr` of the same
-- commit again watches nothing twice. `next_check_at`: when the checks are read next (a
-- check_run or check_suite webhook for the commit moves it to now); `attempts`: reads so far,
-- for the backoff; `done_at`: when the thread was told, the watch gave up, or a later push of
-- the session replaced it (NULL: still watched).
CREATE TABLE check_watches (
    session_id    TEXT NOT NULL REFERENCES sessions (id),
    repo          TEXT NOT NULL,
    sha           TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    next_check_at BIGINT NOT NULL,
    attempts      BIGINT NOT NULL DEFAULT 0,
    done_at       BIGINT,
    PRIMARY KEY (session_id, sha)
);
CREATE INDEX check_watches_due ON check_watches (done_at, next_check_at);
CREATE INDEX check_watches_by_commit ON check_watches (sha);
