-- Insert new messages; refresh the derived columns and last_seen_at of known ones.
-- first_seen_at is never touched once set. The batch is unique on the key (deduped before).
INSERT INTO messages (
    provider, account, kind, message_id, direction, did, contact, contact_kind,
    sent_at, sent_at_local, body, body_raw, body_source, carrier_status, status,
    segments, encoding, media_count, first_seen_at, last_seen_at
)
SELECT
    provider, account, kind, message_id, direction, did, contact, contact_kind,
    sent_at, sent_at_local, body, body_raw, body_source, carrier_status, status,
    segments, encoding, media_count, $seen_at, $seen_at
FROM batch_messages
ON CONFLICT (provider, account, kind, message_id) DO UPDATE SET
    direction = excluded.direction,
    did = excluded.did,
    contact = excluded.contact,
    contact_kind = excluded.contact_kind,
    sent_at = excluded.sent_at,
    sent_at_local = excluded.sent_at_local,
    body = excluded.body,
    body_raw = excluded.body_raw,
    body_source = excluded.body_source,
    carrier_status = excluded.carrier_status,
    status = excluded.status,
    segments = excluded.segments,
    encoding = excluded.encoding,
    media_count = excluded.media_count,
    last_seen_at = greatest(messages.last_seen_at, excluded.last_seen_at);
