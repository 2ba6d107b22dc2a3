-- A session's model (`/model`, its project's, else NULL: the agent's configured default), and
-- the agent and model each turn ran with, for `/status` and the audit trail: a session can
-- switch agents and models between turns (`/agent`, `/model`), so the session's current ones do
-- not say what an earlier turn used.
ALTER TABLE sessions ADD COLUMN model TEXT;
ALTER TABLE turns ADD COLUMN agent TEXT;
ALTER TABLE turns ADD COLUMN model TEXT;
