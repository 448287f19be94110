-- The media export: every column cast to its declared type, with the partition `year`: the UTC
-- year of its MMS's sent_at (so a message and its media sit in the same year); a media row whose
-- message is missing falls back to the UTC year of its own first_seen_at. The year is taken from
-- the epoch microseconds (the same UTC year, without a time zone lookup per row). No ORDER BY:
-- rows come in no set order.
WITH mms AS (
    SELECT provider, account, message_id, sent_at
    FROM messages
    WHERE kind = 'mms'
)
SELECT
    CAST(m.provider AS VARCHAR)        AS provider,
    CAST(m.account AS VARCHAR)         AS account,
    CAST(m.message_id AS VARCHAR)      AS message_id,
    CAST(m.position AS INTEGER)        AS position,
    CAST(m.url AS VARCHAR)             AS url,
    CAST(m.sha256 AS VARCHAR)          AS sha256,
    CAST(m.size_bytes AS BIGINT)       AS size_bytes,
    CAST(m.content_type AS VARCHAR)    AS content_type,
    CAST(m.state AS VARCHAR)           AS state,
    CAST(m.fetched_at AS TIMESTAMPTZ)  AS fetched_at,
    CAST(m.attempts AS INTEGER)        AS attempts,
    CAST(m.last_error AS VARCHAR)      AS last_error,
    CAST(m.first_seen_at AS TIMESTAMPTZ) AS first_seen_at,
    CAST(year(make_timestamp(epoch_us(coalesce(mms.sent_at, m.first_seen_at)))) AS INTEGER) AS year
FROM media AS m
LEFT JOIN mms USING (provider, account, message_id);
