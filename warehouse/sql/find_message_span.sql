-- The time span of each account's messages.
SELECT
    provider,
    account,
    count(*) AS messages,
    min(sent_at) AS first_sent_at,
    max(sent_at) AS last_sent_at
FROM messages
GROUP BY ALL
ORDER BY provider, account;
