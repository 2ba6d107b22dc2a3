-- Rate-limit pauses (`retry_after`) by their end in Unix milliseconds, so a restarted bot makes
-- no call inside a window the platform opened before it stopped. `chat` is '' for a pause of the
-- whole platform (Slack's method tiers, Discord's global limit).
CREATE TABLE retry_pauses (
    platform TEXT NOT NULL,
    chat     TEXT NOT NULL,
    until_ms BIGINT NOT NULL,
    PRIMARY KEY (platform, chat)
);
