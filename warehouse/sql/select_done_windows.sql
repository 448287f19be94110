-- The windows of one account whose merge committed.
SELECT window_start, window_end
FROM window_checkpoints
WHERE provider = $provider
    AND account = $account
ORDER BY window_start, window_end;
