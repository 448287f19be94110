-- The last day covered by a committed window of one account (NULL when none), never later
-- than the local day ($timezone) the window was committed on: days after it were not over.
SELECT max(least(window_end, CAST(timezone($timezone, completed_at) AS DATE))) AS newest_day
FROM window_checkpoints
WHERE provider = $provider
    AND account = $account;
