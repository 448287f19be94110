-- Refresh the derived columns and last_seen_at of the batch's messages the archive holds.
-- first_seen_at is never touched once set. The batch is unique on the key (deduped before).
-- A replay ($replay) of an answer older than the newest reading the archive holds of a
-- message (last_seen_at after $seen_at) leaves its carrier_status and status as they are:
-- a later answer said more about them. A sent_at inferred between a repeated autumn hour's
-- two instants (b.sent_at_other_reading names the other) leaves the archived one if it is
-- that other; one read in a zone its window's media links disagree with (b.sent_at_in_doubt)
-- leaves it.
UPDATE messages AS m
SET
    direction = b.direction,
    did = b.did,
    contact = b.contact,
    contact_kind = b.contact_kind,
    -- an inference between a repeated hour's two instants does not replace the other one
    sent_at = CASE WHEN b.sent_at_in_doubt OR m.sent_at = b.sent_at_other_reading
        THEN m.sent_at ELSE b.sent_at END,
    sent_at_local = b.sent_at_local,
    body = b.body,
    body_raw = b.body_raw,
    body_source = b.body_source,
    carrier_status = CASE WHEN $replay AND m.last_seen_at > $seen_at
        THEN m.carrier_status ELSE b.carrier_status END,
    status = CASE WHEN $replay AND m.last_seen_at > $seen_at THEN m.status ELSE b.status END,
    segments = b.segments,
    encoding = b.encoding,
    media_count = b.media_count,
    last_seen_at = greatest(m.last_seen_at, $seen_at)
FROM batch_messages AS b
WHERE m.provider = b.provider
    AND m.account = b.account
    AND m.kind = b.kind
    AND m.message_id = b.message_id;
