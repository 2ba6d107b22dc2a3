-- A lane's next post (`store::outbox::NEXT_POST`) is the first entry of its lane here, without
-- stepping over the lane's pending edits; the index holds pending posts only, so it stays small
-- however many delivered rows the outbox keeps. (`state` is a column as well as in the predicate
-- so that SQLite's planner, which counts equality terms, prefers it.) Edits are found through
-- `outbox_pending`.
CREATE INDEX outbox_pending_posts ON outbox (platform, chat, state, id)
    WHERE state = 'pending' AND target_key IS NULL;
