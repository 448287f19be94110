-- Before a replay: every message's derived columns as one hash, to count what it corrects.
CREATE OR REPLACE TEMP TABLE replay_before AS
SELECT
    provider,
    account,
    kind,
    message_id,
    hash(
        direction, did, contact, contact_kind, sent_at, sent_at_local, body, body_raw,
        body_source, carrier_status, status, segments, encoding, media_count
    ) AS derived
FROM messages;
