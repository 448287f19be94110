-- Raw carrier statuses that did not map to a canonical status, with how many messages have them.
SELECT provider, account, carrier_status, count(*) AS messages
FROM messages
WHERE status = 'unknown'
GROUP BY ALL
ORDER BY provider, account, messages DESC, carrier_status;
