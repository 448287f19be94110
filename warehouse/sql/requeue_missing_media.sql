-- Stored attachments whose file is gone from the media store (registered batch_missing_media,
-- unique on the key) are pending again: the next download stores them anew, or finds them
-- expired at the provider.
UPDATE media
SET
    state = 'pending',
    last_error = 'file_missing'
FROM batch_missing_media AS m
WHERE media.provider = m.provider
    AND media.account = m.account
    AND media.message_id = m.message_id
    AND media.position = m.position
    AND media.state = 'stored';
