-- Close a run with its outcome and totals; returns the run_id when the run exists.
UPDATE sync_runs
SET finished_at = $finished_at,
    outcome = $outcome,
    windows_merged = $windows_merged,
    messages_inserted = $messages_inserted,
    messages_updated = $messages_updated,
    detail = $detail
WHERE run_id = $run_id
RETURNING run_id;
