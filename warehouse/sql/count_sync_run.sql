-- Whether the archive holds a run of this id that started at this instant: an archive lost
-- and made again, or put back from a backup older than the run, holds no such run.
SELECT count(*) AS runs
FROM sync_runs
WHERE run_id = $run_id AND started_at = $started_at;
