-- Committed windows per account, with the days they cover.
SELECT
    provider,
    account,
    count(*) AS windows,
    min(window_start) AS first_day,
    max(window_end) AS last_day,
    max(completed_at) AS last_completed_at
FROM window_checkpoints
GROUP BY ALL
ORDER BY provider, account;
