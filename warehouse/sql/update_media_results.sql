-- Apply download results from the registered batch_media_results (unique on the key).
-- A stored attachment is only ever replaced by another stored result.
-- An attachment requeued because its file had gone from the store (pending, its sha256 kept)
-- whose URL no longer serves it is stored again when a file of its sha256 is back in the
-- store, put there by another attachment of the same bytes (stored before or in this batch):
-- content-addressed, that file is its file.
WITH

back_in_store AS (
    SELECT sha256 FROM media WHERE state = 'stored'
    UNION
    SELECT sha256 FROM batch_media_results WHERE state = 'stored'
),

results AS (
    SELECT
        r.*,
        r.state <> 'stored'
        AND m.state = 'pending'
        AND m.sha256 IN (SELECT sha256 FROM back_in_store) AS refound
    FROM batch_media_results AS r
    JOIN media AS m USING (provider, account, message_id, position)
)

UPDATE media
SET
    state = if(r.refound, 'stored', r.state),
    sha256 = if(r.refound, media.sha256, r.sha256),
    size_bytes = if(r.refound, media.size_bytes, r.size_bytes),
    content_type = if(r.refound, media.content_type, r.content_type),
    fetched_at = r.fetched_at,
    attempts = media.attempts + r.attempts,
    last_error = if(r.refound, NULL, r.last_error)
FROM results AS r
WHERE media.provider = r.provider
    AND media.account = r.account
    AND media.message_id = r.message_id
    AND media.position = r.position
    AND (media.state <> 'stored' OR r.state = 'stored');
