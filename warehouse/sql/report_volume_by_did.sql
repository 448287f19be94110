-- Messages and segments per DID, direction and kind.
WITH

messages AS (
    SELECT did, direction, kind, segments, sent_at
    FROM main.messages
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
        did,
        direction,
        kind,
        count(*) AS messages,
        coalesce(sum(segments), 0)::BIGINT AS segments
    FROM in_scope
    GROUP BY ALL
)

SELECT * FROM final
ORDER BY did, direction, kind;
