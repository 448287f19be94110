-- A run the API refused at its door (credentials, IP, API access) under a name no run of this
-- archive ever finished under: deleted, so that a mistyped login leaves no account behind in
-- `status`. Returns the run_id when it was deleted.
DELETE FROM sync_runs
WHERE run_id = $run_id
    AND NOT EXISTS (
        SELECT 1
        FROM sync_runs AS earlier
        WHERE earlier.provider IS NOT DISTINCT FROM sync_runs.provider
            AND earlier.account IS NOT DISTINCT FROM sync_runs.account
            AND earlier.outcome = 'ok'
    )
RETURNING run_id;
