-- The replay's snapshot is no longer needed.
DROP TABLE IF EXISTS replay_before;
