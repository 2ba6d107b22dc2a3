-- A turn may work in a workspace of its own (a Git checkout of a pull request's head), prepared
-- before the agent starts: the spec as JSON, and the commit it was checked out at (to tell the
-- agent's own commits apart when pushing them back).
ALTER TABLE turns ADD COLUMN workspace TEXT;
ALTER TABLE turns ADD COLUMN workspace_head TEXT;
