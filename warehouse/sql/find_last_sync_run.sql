-- The archive's latest backfill or sync run: an export records it, to know the archive again.
SELECT run_id, started_at
FROM sync_runs
ORDER BY run_id DESC
LIMIT 1;
