-- The carrier_status_history export for one partition: every column cast to its declared type,
-- the rows whose seen_at (when a run saw the status; the table only grows, so old years stay put)
-- is in the UTC year $from (inclusive) to $to (exclusive). No ORDER BY: rows come in no set order.
SELECT
    CAST(provider AS VARCHAR)        AS provider,
    CAST(account AS VARCHAR)         AS account,
    CAST(kind AS VARCHAR)            AS kind,
    CAST(message_id AS VARCHAR)      AS message_id,
    CAST(carrier_status AS VARCHAR)  AS carrier_status,
    CAST(status AS VARCHAR)          AS status,
    CAST(seen_at AS TIMESTAMPTZ)     AS seen_at
FROM carrier_status_history
WHERE seen_at >= $from
    AND seen_at < $to;
