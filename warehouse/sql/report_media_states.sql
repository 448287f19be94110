-- Attachments of the MMS in scope per state (all four listed), bytes, and each state's share.
WITH

messages AS (
    SELECT provider, account, message_id, did, sent_at
    FROM main.messages
    WHERE kind = 'mms'
),

media AS (
    SELECT provider, account, message_id, state, size_bytes
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

states AS (
    SELECT unnest(['stored', 'expired', 'failed', 'pending']) AS state
),

counted AS (
    SELECT m.state, count(*) AS files, sum(m.size_bytes) AS bytes
    FROM media AS m
    INNER JOIN in_scope AS s
        ON s.provider = m.provider
        AND s.account = m.account
        AND s.message_id = m.message_id
    GROUP BY ALL
),

final AS (
    SELECT
        st.state,
        coalesce(c.files, 0) AS files,
        coalesce(c.bytes, 0)::BIGINT AS bytes,
        round(coalesce(c.files, 0) / nullif(sum(coalesce(c.files, 0)) OVER (), 0), 4) AS share
    FROM states AS st
    LEFT JOIN counted AS c ON c.state = st.state
)

SELECT * FROM final
ORDER BY array_position(['stored', 'expired', 'failed', 'pending'], state);
