-- Start a backfill or sync run; returns its run_id.
INSERT INTO sync_runs (kind, provider, account, window_start, window_end, started_at, outcome)
VALUES ($kind, $provider, $account, $window_start, $window_end, $started_at, 'running')
RETURNING run_id;
