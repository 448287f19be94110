-- The first and last instants of the messages of one account and one DID (NULL: all), for
-- the time grain a report draws when none is asked.
SELECT min(sent_at) AS first_at, max(sent_at) AS last_at
FROM messages
WHERE ($account IS NULL OR account = $account)
    AND ($did IS NULL OR did = $did);
