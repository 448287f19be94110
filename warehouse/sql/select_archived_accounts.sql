-- The accounts the archive holds messages of, for a report asked about another one.
SELECT DISTINCT account
FROM messages
ORDER BY account;
