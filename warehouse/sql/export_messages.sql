-- The messages export for one partition: every column cast to its declared type, the rows whose
-- sent_at is in the UTC year $from (inclusive) to $to (exclusive). No ORDER BY: a sort of every
-- row would hold the whole table in memory; rows come in no set order.
SELECT
    CAST(provider AS VARCHAR)        AS provider,
    CAST(account AS VARCHAR)         AS account,
    CAST(kind AS VARCHAR)            AS kind,
    CAST(message_id AS VARCHAR)      AS message_id,
    CAST(direction AS VARCHAR)       AS direction,
    CAST(did AS VARCHAR)             AS did,
    CAST(contact AS VARCHAR)         AS contact,
    CAST(contact_kind AS VARCHAR)    AS contact_kind,
    CAST(sent_at AS TIMESTAMPTZ)     AS sent_at,
    CAST(sent_at_local AS VARCHAR)   AS sent_at_local,
    CAST(body AS VARCHAR)            AS body,
    CAST(body_raw AS VARCHAR)        AS body_raw,
    CAST(body_source AS VARCHAR)     AS body_source,
    CAST(carrier_status AS VARCHAR)  AS carrier_status,
    CAST(status AS VARCHAR)          AS status,
    CAST(segments AS INTEGER)        AS segments,
    CAST(encoding AS VARCHAR)        AS encoding,
    CAST(media_count AS INTEGER)     AS media_count,
    CAST(first_seen_at AS TIMESTAMPTZ) AS first_seen_at,
    CAST(last_seen_at AS TIMESTAMPTZ)  AS last_seen_at
FROM messages
WHERE sent_at >= $from
    AND sent_at < $to;
