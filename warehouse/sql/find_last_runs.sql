-- The latest run of each kind ('backfill', 'sync') of each account.
SELECT
    kind,
    run_id,
    provider,
    account,
    window_start,
    window_end,
    started_at,
    finished_at,
    outcome,
    windows_merged,
    messages_inserted,
    messages_updated,
    detail
FROM sync_runs
QUALIFY row_number() OVER (
    PARTITION BY provider, account, kind ORDER BY started_at DESC, run_id DESC
) = 1
ORDER BY provider, account, kind;
