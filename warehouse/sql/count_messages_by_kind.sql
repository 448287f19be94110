-- Messages per account, kind and direction.
SELECT provider, account, kind, direction, count(*) AS messages
FROM messages
GROUP BY ALL
ORDER BY provider, account, kind, direction;
