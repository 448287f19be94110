-- Apply download results from the registered batch_media_results (unique on the key).
-- A stored attachment is only ever replaced by another stored result.
UPDATE media
SET
    state = r.state,
    sha256 = r.sha256,
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
