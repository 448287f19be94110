-- Mark 'interrupted' the runs a new run found still 'running' (their process died), once
-- their Prefect flow runs were closed.
UPDATE sync_runs
SET outcome = 'interrupted',
    detail = coalesce(detail, 'the process ended before the run finished')
WHERE outcome = 'running' AND list_contains($run_ids, run_id);
