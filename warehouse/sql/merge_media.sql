-- New attachments wait as 'pending'. A known one is left alone, unless it is not stored yet
-- and the API now gives another URL: then it gets the new URL and a fresh set of attempts.
INSERT INTO media (provider, account, message_id, position, url, state, attempts, first_seen_at)
SELECT provider, account, message_id, position, url, 'pending', 0, $seen_at
FROM batch_media
ON CONFLICT (provider, account, message_id, position) DO UPDATE SET
    url = excluded.url,
    state = 'pending',
    attempts = 0,
    last_error = NULL
WHERE media.state <> 'stored'
    AND media.url IS DISTINCT FROM excluded.url;
