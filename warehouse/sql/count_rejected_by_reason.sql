-- Rejected raw rows per account, source and reason.
SELECT provider, account, source, reason, count(*) AS records
FROM rejected_records
GROUP BY ALL
ORDER BY provider, account, records DESC, source, reason;
