-- What the workspace looked like when the turn's agent started (a git commit and a tree of the
-- whole working tree, or "not a repository"), as JSON: the turn's changes are measured against
-- it when the turn ends, also after a restart.
ALTER TABLE turns ADD COLUMN changes_base TEXT;
-- What the turn changed, in figures (files, lines added and removed, commits), as JSON.
ALTER TABLE turns ADD COLUMN changes TEXT;
