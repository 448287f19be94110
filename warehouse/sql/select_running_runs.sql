-- Runs still 'running' when a new one starts (under the writer lock): their process died.
-- With their Prefect flow runs, to be closed in Prefect before the runs are marked.
SELECT run_id, flow_run_id
FROM sync_runs
WHERE outcome = 'running'
ORDER BY run_id;
