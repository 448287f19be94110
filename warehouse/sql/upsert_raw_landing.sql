-- Record a landed raw answer; landing the same path again replaces its row.
INSERT INTO raw_landing
    (provider, account, window_start, window_end, method, path, rows, sha256, landed_at)
VALUES
    ($provider, $account, $window_start, $window_end, $method, $path, $rows, $sha256, $landed_at)
ON CONFLICT (path) DO UPDATE SET
    provider = excluded.provider,
    account = excluded.account,
    window_start = excluded.window_start,
    window_end = excluded.window_end,
    method = excluded.method,
    rows = excluded.rows,
    sha256 = excluded.sha256,
    landed_at = excluded.landed_at;
