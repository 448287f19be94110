-- Whether any attachment not stored keeps the sha256 of a file it had before the file went
-- from the store: only then may a download store another's file for it (store_refound_media).
SELECT EXISTS (
    SELECT 1 FROM media WHERE state <> 'stored' AND sha256 IS NOT NULL
);
