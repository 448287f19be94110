-- One notice met for the first time; a row comes back only when it was inserted (new).
INSERT INTO provider_notices
    (provider, account, kind, subject, example, first_seen_at, last_seen_at)
VALUES ($provider, $account, $kind, $subject, $example, $seen_at, $seen_at)
ON CONFLICT (provider, account, kind, subject) DO NOTHING
RETURNING kind;
