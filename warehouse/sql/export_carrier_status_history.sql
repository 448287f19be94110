-- The carrier_status_history export: every column cast to its declared type, partitioned by
-- the UTC year of seen_at (the row's own event time; the table only grows, so old years stay put).
SELECT
    CAST(provider AS VARCHAR)        AS provider,
    CAST(account AS VARCHAR)         AS account,
    CAST(kind AS VARCHAR)            AS kind,
    CAST(message_id AS VARCHAR)      AS message_id,
    CAST(carrier_status AS VARCHAR)  AS carrier_status,
    CAST(status AS VARCHAR)          AS status,
    CAST(seen_at AS TIMESTAMPTZ)     AS seen_at,
    CAST(year(timezone('UTC', seen_at)) AS INTEGER) AS year
FROM carrier_status_history
ORDER BY provider, account, kind, message_id, seen_at, carrier_status, status
