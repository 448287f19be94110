-- After a replay: the messages whose derived columns differ from snapshot_derived_columns.sql's
-- hash (a message the replay changed and changed back is not counted). Messages it inserted
-- are not in the snapshot.
SELECT count(*)
FROM messages AS m
JOIN replay_before AS b USING (provider, account, kind, message_id)
WHERE hash(
    m.direction, m.did, m.contact, m.contact_kind, m.sent_at, m.sent_at_local, m.body,
    m.body_raw, m.body_source, m.carrier_status, m.status, m.segments, m.encoding,
    m.media_count
) <> b.derived;
