-- Sign-ins to the web console: one row per signed-in browser, found by the SHA-256 of its
-- cookie (the cookie's value itself is never stored), with the CSRF token its pages send back.
CREATE TABLE web_logins (
    id_sha256  TEXT PRIMARY KEY,
    user_name  TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
