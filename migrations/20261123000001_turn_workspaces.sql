-- A turn may work in a workspace of its own (a Git checkout of a pull request's head), prepared
-- before the agent starts: the spec as JSON, and the commit it was checked out at (to tell the
-- agent's own commits apart when pushing them back). `memo` is what the platform's frontend
-- wants back when it presents the turn's end (a dependency review's findings), as JSON. A
-- `quiet` turn has no status message (a dependency review speaks only through its review).
ALTER TABLE turns ADD COLUMN workspace TEXT;
ALTER TABLE turns ADD COLUMN workspace_head TEXT;
ALTER TABLE turns ADD COLUMN memo TEXT;
ALTER TABLE turns ADD COLUMN quiet BIGINT NOT NULL DEFAULT 0;
