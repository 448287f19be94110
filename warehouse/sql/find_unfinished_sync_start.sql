-- The first day of the account's syncs since its last one that ended ok: days a sync that
-- was stopped or failed (its windows merged in any order) may have left unarchived.
SELECT min(window_start)
FROM sync_runs
WHERE kind = 'sync'
  AND provider = $provider
  AND account = $account
  AND run_id > coalesce(
      (SELECT max(run_id) FROM sync_runs
       WHERE kind = 'sync' AND provider = $provider AND account = $account AND outcome = 'ok'),
      0
  );
