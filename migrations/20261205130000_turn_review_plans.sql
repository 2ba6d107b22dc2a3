-- A dependency review turn carries its plan (the pull request and the changes its platform read
-- from it, as JSON) to its review phase, which gathers the facts on the host before the agent
-- starts and then stores its findings in `memo` and the agent's prompt in `prompt`.
ALTER TABLE turns ADD COLUMN review TEXT;
