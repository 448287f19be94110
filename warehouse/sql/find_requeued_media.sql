-- Whether any attachment waits requeued for a file gone from the store (pending, its sha256
-- kept): only then may a download that does not store one find its file back (see
-- store_refound_media).
SELECT EXISTS (
    SELECT 1 FROM media WHERE state = 'pending' AND sha256 IS NOT NULL
);
