-- Runs still 'running' when a new one starts (under the writer lock) died without finishing.
UPDATE sync_runs
SET outcome = 'interrupted',
    detail = coalesce(detail, 'the process ended before the run finished')
WHERE outcome = 'running';
