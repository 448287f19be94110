-- What merging the registered batch_messages / batch_media / batch_rejected would change,
-- one row per window of the batch (window_index 0 .. $windows - 1, every one listed).
-- Read inside merge_windows' transaction, before its writes. A replay's ($replay) reading
-- of a status older than the archive's newest (last_seen_at after $seen_at) changes nothing
-- (update_known_messages.sql keeps the newer one).
WITH

compared AS (
    SELECT
        b.window_index,
        m.message_id IS NULL AS is_new,
        m.message_id IS NOT NULL
            AND NOT coalesce($replay AND m.last_seen_at > $seen_at, false)
            AND b.carrier_status IS DISTINCT FROM m.carrier_status AS carrier_status_changed,
        m.message_id IS NOT NULL AND (
            b.direction IS DISTINCT FROM m.direction
            OR b.did IS DISTINCT FROM m.did
            OR b.contact IS DISTINCT FROM m.contact
            OR b.contact_kind IS DISTINCT FROM m.contact_kind
            OR (
                b.sent_at IS DISTINCT FROM m.sent_at
                AND m.sent_at IS DISTINCT FROM b.sent_at_other_reading
                AND NOT b.sent_at_in_doubt
            )
            OR b.sent_at_local IS DISTINCT FROM m.sent_at_local
            OR b.body IS DISTINCT FROM m.body
            OR b.body_raw IS DISTINCT FROM m.body_raw
            OR b.body_source IS DISTINCT FROM m.body_source
            OR (
                NOT coalesce($replay AND m.last_seen_at > $seen_at, false)
                AND (
                    b.carrier_status IS DISTINCT FROM m.carrier_status
                    OR b.status IS DISTINCT FROM m.status
                )
            )
            OR b.segments IS DISTINCT FROM m.segments
            OR b.encoding IS DISTINCT FROM m.encoding
            OR b.media_count IS DISTINCT FROM m.media_count
        ) AS is_changed
    FROM batch_messages AS b
    LEFT JOIN messages AS m
        ON m.provider = b.provider
        AND m.account = b.account
        AND m.kind = b.kind
        AND m.message_id = b.message_id
),

message_counts AS (
    SELECT
        window_index,
        count(*) FILTER (WHERE is_new) AS inserted,
        count(*) FILTER (WHERE is_changed) AS updated,
        count(*) FILTER (WHERE carrier_status_changed) AS status_changes
    FROM compared
    GROUP BY window_index
),

media_counts AS (
    SELECT window_index, count(*) AS media_new
    FROM batch_media AS b
    WHERE NOT EXISTS (
        SELECT 1
        FROM media AS m
        WHERE m.provider = b.provider
            AND m.account = b.account
            AND m.message_id = b.message_id
            AND m.position = b.position
    )
    GROUP BY window_index
),

rejected_counts AS (
    SELECT window_index, count(*) AS rejected_new
    FROM batch_rejected AS b
    WHERE NOT EXISTS (
        SELECT 1
        FROM rejected_records AS r
        WHERE r.provider = b.provider
            AND r.account = b.account
            AND r.record_hash = rejected_record_hash(b.source, b.record, b.reason)
    )
    GROUP BY window_index
),

windows AS (
    SELECT unnest(range($windows)) AS window_index
)

SELECT
    w.window_index,
    coalesce(mc.inserted, 0) AS inserted,
    coalesce(mc.updated, 0) AS updated,
    coalesce(mc.status_changes, 0) AS status_changes,
    coalesce(md.media_new, 0) AS media_new,
    coalesce(rc.rejected_new, 0) AS rejected_new
FROM windows AS w
LEFT JOIN message_counts AS mc ON mc.window_index = w.window_index
LEFT JOIN media_counts AS md ON md.window_index = w.window_index
LEFT JOIN rejected_counts AS rc ON rc.window_index = w.window_index
ORDER BY w.window_index;
