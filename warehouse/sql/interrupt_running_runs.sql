-- Runs still 'running' when a new one starts (under the writer lock) died without finishing.
-- Returns the Prefect flow runs of those that were flows, to be closed in Prefect as well.
UPDATE sync_runs
SET outcome = 'interrupted',
    detail = coalesce(detail, 'the process ended before the run finished')
WHERE outcome = 'running'
RETURNING flow_run_id;
