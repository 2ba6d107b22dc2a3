-- The part of a post the outlet is sending and since when (Unix ms): when it is found set on a
-- later pass (after a lost answer or a restart), the platform may already have that part, and
-- the outlet looks for it before sending again (where the platform can tell).
ALTER TABLE outbox ADD COLUMN sending_part BIGINT;
ALTER TABLE outbox ADD COLUMN sending_since BIGINT;
