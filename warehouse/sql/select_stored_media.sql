-- Attachments recorded as stored, with the sha256 that names their file in the media store.
SELECT provider, account, message_id, position, sha256
FROM media
WHERE state = 'stored';
