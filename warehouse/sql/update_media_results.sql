-- Apply download results from the registered batch_media_results (unique on the key).
-- A stored attachment is only ever replaced by another stored result. An attachment
-- requeued for a file gone from the store keeps that file's sha256 whatever its download
-- gives (its size and type go with the row's state): another attachment of the same bytes
-- may bring the file back, and store_refound_media then stores this one again.
UPDATE media
SET
    state = r.state,
    sha256 = coalesce(r.sha256, media.sha256),
    size_bytes = r.size_bytes,
    content_type = r.content_type,
    fetched_at = r.fetched_at,
    attempts = media.attempts + r.attempts,
    last_error = r.last_error
FROM batch_media_results AS r
WHERE media.provider = r.provider
    AND media.account = r.account
    AND media.message_id = r.message_id
    AND media.position = r.position
    AND (media.state <> 'stored' OR r.state = 'stored');
