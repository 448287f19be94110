-- Stored attachments whose file is gone from the media store (their sha256 in the registered
-- batch_missing_media) are pending again: the next download stores them anew, or finds them
-- expired at the provider.
UPDATE media
SET
    state = 'pending',
    last_error = 'file_missing'
FROM batch_missing_media AS m
WHERE media.sha256 = m.sha256
    AND media.state = 'stored';
