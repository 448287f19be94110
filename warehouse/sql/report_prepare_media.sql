-- Attachments of the MMS in a report's scope counted once per content type and state, with
-- their bytes: media_by_type and media_states read this temp table.
CREATE OR REPLACE TEMP TABLE report_media AS
WITH

in_scope AS (
    SELECT provider, account, message_id
    FROM temp.report_local_messages
    WHERE kind = 'mms' AND in_days
)

SELECT
    m.content_type,
    m.state,
    count(*) AS files,
    sum(m.size_bytes) AS bytes
FROM main.media AS m
INNER JOIN in_scope AS s
    ON s.provider = m.provider
    AND s.account = m.account
    AND s.message_id = m.message_id
GROUP BY ALL;
