-- The DIDs the archive holds messages on, for a report asked about another one.
SELECT DISTINCT did
FROM messages
WHERE did IS NOT NULL
ORDER BY did;
