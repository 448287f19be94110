-- One notice: inserted the first time, its last_seen_at (and example) moved on afterwards;
-- first_seen_at equal to $seen_at means this sighting was the first.
INSERT INTO provider_notices AS n
    (provider, account, kind, subject, example, first_seen_at, last_seen_at)
VALUES ($provider, $account, $kind, $subject, $example, $seen_at, $seen_at)
ON CONFLICT (provider, account, kind, subject) DO UPDATE SET
    last_seen_at = greatest(n.last_seen_at, excluded.last_seen_at),
    example = coalesce(excluded.example, n.example)
RETURNING first_seen_at;
