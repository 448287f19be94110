-- 003_sync_run_flow_runs: which Prefect flow run a run was, so a dead one can be closed there.

ALTER TABLE sync_runs ADD COLUMN flow_run_id VARCHAR;

COMMENT ON COLUMN sync_runs.flow_run_id IS 'The Prefect flow run of a run made as a Prefect flow (null for a plain run); when the run is found interrupted, that flow run is marked Crashed in Prefect.';
