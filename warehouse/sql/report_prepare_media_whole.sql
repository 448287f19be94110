-- report_prepare_media.sql for a report of the whole archive (every day, every DID): every
-- attachment belongs to one MMS of the archive, so all are counted, with no join to the
-- messages (on millions of messages that join was most of the report's media cost).
CREATE OR REPLACE TEMP TABLE report_media AS
SELECT
    content_type,
    state,
    count(*) AS files,
    sum(size_bytes) AS bytes
FROM main.media
GROUP BY ALL;
