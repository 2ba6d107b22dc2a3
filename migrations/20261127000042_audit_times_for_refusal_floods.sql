-- How many events one audit row stands for: 1 for a decision recorded on its own; more for the
-- row that counts a flood of refusals from one source in one minute (src/edge/refusals.rs).
ALTER TABLE audit ADD COLUMN times BIGINT NOT NULL DEFAULT 1;
