-- The windows of one account whose merge committed after the window's last day was over
-- everywhere (two days after window_end covers every zone): nothing can arrive in them later,
-- so a rerun may skip them. A window merged while its last day was still running is not here.
SELECT window_start, window_end
FROM window_checkpoints
WHERE provider = $provider
    AND account = $account
    AND completed_at >= CAST(window_end AS TIMESTAMPTZ) + INTERVAL 2 DAY
ORDER BY window_start, window_end;
