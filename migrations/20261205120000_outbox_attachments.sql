-- The files of an outbox post (a turn's patch, up to 4 MiB; images, up to 8 MiB each), kept
-- apart from its row: the row's JSON names each by its place (`idx`), so the outlet, which reads
-- pending rows on every pass, reads a file only when the part that sends it goes out. Written in
-- the row's own transaction; removed with the row. BYTEA is Postgres's type for bytes; SQLite
-- takes any type name and keeps a blob as given.
CREATE TABLE outbox_attachments (
    key  TEXT NOT NULL REFERENCES outbox (key) ON DELETE CASCADE,
    idx  BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (key, idx)
);
