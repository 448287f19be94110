-- Every notice, newest first (for `smsarchive status`).
SELECT provider, account, kind, subject, example, first_seen_at, last_seen_at
FROM provider_notices
ORDER BY last_seen_at DESC, provider, account, kind, subject;
