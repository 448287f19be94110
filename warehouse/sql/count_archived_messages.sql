-- Every message the archive holds, of every account.
SELECT count(*) AS messages
FROM messages;
