-- The backfills and syncs an account's archive records, whatever their outcome.
SELECT count(*) AS runs
FROM sync_runs
WHERE provider = $provider
    AND account = $account;
