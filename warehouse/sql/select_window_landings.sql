-- The landed answers of one window of one account, every fetch of it, the earliest first.
SELECT method, path, sha256
FROM raw_landing
WHERE provider = $provider
    AND account = $account
    AND window_start = $window_start
    AND window_end = $window_end
ORDER BY landed_at, path;
