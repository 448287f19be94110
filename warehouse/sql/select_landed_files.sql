-- Landed raw answers, optionally of one provider/account, in window order (for replays).
SELECT provider, account, window_start, window_end, method, path, rows, sha256, landed_at
FROM raw_landing
WHERE ($provider IS NULL OR provider = $provider)
    AND ($account IS NULL OR account = $account)
ORDER BY provider, account, window_start, window_end, method, landed_at, path;
