-- The messages in a report's scope counted once per account, DID, direction, kind, status,
-- encoding and local day (the raw carrier status kept for failed and unmapped ones): most
-- report tables are sums over this temp table instead of scans of every message.
CREATE OR REPLACE TEMP TABLE report_messages AS
SELECT
    account,
    did,
    direction,
    kind,
    status,
    CASE WHEN status IN ('failed', 'unknown') THEN carrier_status END AS carrier_status,
    encoding,
    local_day,
    count(*) AS messages,
    sum(segments) AS segments,
    count(*) FILTER (WHERE segments > 1) AS multipart,
    max(segments) AS max_segments
FROM temp.report_local_messages
WHERE in_days
GROUP BY ALL;
