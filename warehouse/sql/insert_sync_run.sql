-- Start a backfill or sync run; returns its run_id.
INSERT INTO sync_runs (
    kind, provider, account, window_start, window_end, started_at, outcome, flow_run_id
)
VALUES (
    $kind, $provider, $account, $window_start, $window_end, $started_at, 'running', $flow_run_id
)
RETURNING run_id;
