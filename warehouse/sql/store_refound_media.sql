-- Attachments requeued because their file had gone from the store (pending, their sha256
-- kept) whose download in the registered batch_media_results did not store them, but whose
-- file is back: stored before, or in this batch, for another attachment of the same bytes.
-- Content-addressed, that file is theirs: they are stored again (update_media_results, run
-- next, leaves a stored row alone).
WITH

requeued AS (
    SELECT r.provider, r.account, r.message_id, r.position, r.fetched_at, r.attempts, m.sha256
    FROM batch_media_results AS r
    JOIN media AS m USING (provider, account, message_id, position)
    WHERE r.state <> 'stored'
        AND m.state = 'pending'
        AND m.sha256 IS NOT NULL
),

refound AS (
    SELECT *
    FROM requeued
    WHERE sha256 IN (SELECT sha256 FROM batch_media_results WHERE state = 'stored')
        OR sha256 IN (
            SELECT sha256
            FROM media
            WHERE state = 'stored' AND sha256 IN (SELECT sha256 FROM requeued)
        )
)

UPDATE media
SET
    state = 'stored',
    fetched_at = r.fetched_at,
    attempts = media.attempts + r.attempts,
    last_error = NULL
FROM refound AS r
WHERE media.provider = r.provider
    AND media.account = r.account
    AND media.message_id = r.message_id
    AND media.position = r.position;
