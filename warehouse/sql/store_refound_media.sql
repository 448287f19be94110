-- Attachments not stored that keep the sha256 of a file they had before it went from the
-- store (see requeue_missing_media), now that another attachment of the same bytes has
-- brought that file back: content-addressed, it is theirs. Stored again, with the file's
-- size and type; their last download's time and tries stay.
WITH

back_in_store AS (
    SELECT sha256, any_value(size_bytes) AS size_bytes, any_value(content_type) AS content_type
    FROM media
    WHERE state = 'stored'
        AND sha256 IN (SELECT sha256 FROM media WHERE state <> 'stored' AND sha256 IS NOT NULL)
    GROUP BY sha256
)

UPDATE media
SET
    state = 'stored',
    size_bytes = b.size_bytes,
    content_type = b.content_type,
    last_error = NULL
FROM back_in_store AS b
WHERE media.sha256 = b.sha256
    AND media.state <> 'stored';
