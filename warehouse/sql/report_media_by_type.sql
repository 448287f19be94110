-- Attachments of the MMS in scope per sniffed content type and state, with their bytes.
WITH

messages AS (
    SELECT provider, account, message_id, did, sent_at
    FROM main.messages
    WHERE kind = 'mms'
),

media AS (
    SELECT provider, account, message_id, content_type, state, size_bytes
    FROM main.media
),

localised AS (
    SELECT *, (sent_at AT TIME ZONE $tz)::DATE AS local_day
    FROM messages
),

in_scope AS (
    SELECT *
    FROM localised
    WHERE ($start::DATE IS NULL OR local_day >= $start::DATE)
        AND ($end::DATE IS NULL OR local_day <= $end::DATE)
        AND ($did::VARCHAR IS NULL OR did = $did::VARCHAR)
),

final AS (
    SELECT
        coalesce(m.content_type, '(not stored)') AS content_type,
        m.state,
        count(*) AS files,
        coalesce(sum(m.size_bytes), 0)::BIGINT AS bytes
    FROM media AS m
    INNER JOIN in_scope AS s
        ON s.provider = m.provider
        AND s.account = m.account
        AND s.message_id = m.message_id
    GROUP BY ALL
)

SELECT * FROM final
ORDER BY files DESC, content_type, state;
