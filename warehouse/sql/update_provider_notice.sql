-- A notice met again: its last sighting (and example, when one is given) moved on.
UPDATE provider_notices
SET
    last_seen_at = greatest(last_seen_at, $seen_at),
    example = coalesce($example, example)
WHERE provider = $provider
    AND account = $account
    AND kind = $kind
    AND subject = $subject;
