-- The accounts the archive holds messages of.
SELECT DISTINCT account
FROM messages
ORDER BY account;
