-- The sha256 of every attachment recorded as stored (each naming one file of the media store),
-- in order: a media store's folder (the first two hex digits) is one run of them.
SELECT DISTINCT sha256
FROM media
WHERE state = 'stored'
ORDER BY sha256;
