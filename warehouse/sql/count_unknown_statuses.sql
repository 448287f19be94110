-- Raw carrier statuses of the messages that read 'unknown', with how many messages have them
-- (`status` shows those no rule knows: transform.status.unmapped_only).
SELECT provider, account, carrier_status, count(*) AS messages
FROM messages
WHERE status = 'unknown'
GROUP BY ALL
ORDER BY provider, account, messages DESC, carrier_status;
