-- The DIDs the archive holds messages on (of one $account, or of any when it is null), for a
-- report asked about another one.
SELECT DISTINCT did
FROM messages
WHERE did IS NOT NULL AND ($account IS NULL OR account = $account)
ORDER BY did;
