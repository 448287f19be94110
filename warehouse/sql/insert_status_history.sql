-- A history row for every message seen for the first time and every change of
-- carrier_status (a replay has its own: insert_replayed_status_history.sql). Runs before
-- update_known_messages.sql, so `messages` still holds the previous state.
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
    OR b.carrier_status IS DISTINCT FROM m.carrier_status;
