-- The local day ($timezone) of an account's newest archived message (NULL when none): where
-- a sync starts when no window is recorded as archived (an archive made again from landing/).
SELECT CAST(timezone($timezone, max(sent_at)) AS DATE) AS newest_day
FROM messages
WHERE provider = $provider
    AND account = $account;
