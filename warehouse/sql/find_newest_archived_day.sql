-- The last day covered by a committed window of one account (NULL when none).
SELECT max(window_end) AS newest_day
FROM window_checkpoints
WHERE provider = $provider
    AND account = $account;
