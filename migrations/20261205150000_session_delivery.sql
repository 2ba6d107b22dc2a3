-- What became of a session's workspace: when its branch was last pushed and the pull request it
-- opened (`/pr`), and when the workspace was removed from its host (clean-up after
-- `workspaces.keep_for`). NULL: not yet.
ALTER TABLE sessions ADD COLUMN pushed_at BIGINT;
ALTER TABLE sessions ADD COLUMN pr_number BIGINT;
ALTER TABLE sessions ADD COLUMN pr_url TEXT;
ALTER TABLE sessions ADD COLUMN workspace_removed_at BIGINT;
