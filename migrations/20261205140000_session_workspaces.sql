-- A session's own workspace (domain::workspace::SessionWorkspace as JSON): a scratch directory
-- or a worktree of its project's shared clone. NULL for sessions that work in the host's
-- workdir (made before workspaces) or in a GitHub thread's checkout.
ALTER TABLE sessions ADD COLUMN workspace TEXT;
