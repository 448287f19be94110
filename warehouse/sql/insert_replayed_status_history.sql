-- A replay's history rows: one for every message seen for the first time, and one for a
-- change of carrier_status only where the answer is newer than every history row of the
-- message. The runs that fetched the answers recorded their changes; but a row they could
-- not read (rejected then, read now) had its later changes seen by no run, and its history
-- must still end on the status `messages` holds. Runs before update_known_messages.sql.
INSERT INTO carrier_status_history
    (provider, account, kind, message_id, carrier_status, status, seen_at)
SELECT
    b.provider,
    b.account,
    b.kind,
    b.message_id,
    b.carrier_status,
    b.status,
    $seen_at
FROM batch_messages AS b
LEFT JOIN messages AS m
    ON m.provider = b.provider
    AND m.account = b.account
    AND m.kind = b.kind
    AND m.message_id = b.message_id
WHERE m.message_id IS NULL
    OR (
        b.carrier_status IS DISTINCT FROM m.carrier_status
        AND $seen_at > (
            SELECT max(h.seen_at)
            FROM carrier_status_history AS h
            WHERE h.provider = b.provider
                AND h.account = b.account
                AND h.kind = b.kind
                AND h.message_id = b.message_id
        )
    );
