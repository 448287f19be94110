-- Insert the batch's messages the archive does not hold yet, seen for the first time now.
-- A plain insert, not an upsert: DuckDB writes a large one straight to the file's row groups.
INSERT INTO messages (
    provider, account, kind, message_id, direction, did, contact, contact_kind,
    sent_at, sent_at_local, body, body_raw, body_source, carrier_status, status,
    segments, encoding, media_count, first_seen_at, last_seen_at
)
SELECT
    b.provider, b.account, b.kind, b.message_id, b.direction, b.did, b.contact,
    b.contact_kind, b.sent_at, b.sent_at_local, b.body, b.body_raw, b.body_source,
    b.carrier_status, b.status, b.segments, b.encoding, b.media_count, $seen_at, $seen_at
FROM batch_messages AS b
WHERE NOT EXISTS (
    SELECT 1
    FROM messages AS m
    WHERE m.provider = b.provider
        AND m.account = b.account
        AND m.kind = b.kind
        AND m.message_id = b.message_id
);
