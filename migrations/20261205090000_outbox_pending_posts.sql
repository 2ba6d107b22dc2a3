-- A lane's next post (`store::outbox::NEXT_POST`) is found in this index's order without
-- stepping over the lane's pending edits: it holds pending posts only, so it stays small however
-- many delivered rows the outbox keeps. Edits are found through `outbox_pending`.
CREATE INDEX outbox_pending_posts ON outbox (platform, chat, id)
    WHERE state = 'pending' AND target_key IS NULL;
