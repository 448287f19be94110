-- What merging the registered batch_messages / batch_media / batch_rejected would change.
-- Read inside merge_window's transaction, before its writes.
WITH

compared AS (
    SELECT
        m.message_id IS NULL AS is_new,
        m.message_id IS NOT NULL
            AND b.carrier_status IS DISTINCT FROM m.carrier_status AS carrier_status_changed,
        m.message_id IS NOT NULL AND (
            b.direction IS DISTINCT FROM m.direction
            OR b.did IS DISTINCT FROM m.did
            OR b.contact IS DISTINCT FROM m.contact
            OR b.contact_kind IS DISTINCT FROM m.contact_kind
            OR b.sent_at IS DISTINCT FROM m.sent_at
            OR b.sent_at_local IS DISTINCT FROM m.sent_at_local
            OR b.body IS DISTINCT FROM m.body
            OR b.body_raw IS DISTINCT FROM m.body_raw
            OR b.body_source IS DISTINCT FROM m.body_source
            OR b.carrier_status IS DISTINCT FROM m.carrier_status
            OR b.status IS DISTINCT FROM m.status
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

new_media AS (
    SELECT count(*) AS media_new
    FROM batch_media AS b
    WHERE NOT EXISTS (
        SELECT 1
        FROM media AS m
        WHERE m.provider = b.provider
            AND m.account = b.account
            AND m.message_id = b.message_id
            AND m.position = b.position
    )
),

new_rejected AS (
    SELECT count(*) AS rejected_new
    FROM batch_rejected AS b
    WHERE NOT EXISTS (
        SELECT 1
        FROM rejected_records AS r
        WHERE r.provider = b.provider
            AND r.account = b.account
            AND r.record_hash = rejected_record_hash(b.source, b.record, b.reason)
    )
),

final AS (
    SELECT
        (SELECT count(*) FILTER (WHERE is_new) FROM compared) AS inserted,
        (SELECT count(*) FILTER (WHERE is_changed) FROM compared) AS updated,
        (SELECT count(*) FILTER (WHERE carrier_status_changed) FROM compared) AS status_changes,
        (SELECT media_new FROM new_media) AS media_new,
        (SELECT rejected_new FROM new_rejected) AS rejected_new
)

SELECT * FROM final;
