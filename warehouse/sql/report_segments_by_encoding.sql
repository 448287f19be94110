-- SMS text by encoding and direction: messages, segments, and messages that took more than one.
WITH

messages AS (
    SELECT did, direction, kind, encoding, segments, sent_at
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
        encoding,
        direction,
        count(*) AS messages,
        coalesce(sum(segments), 0)::BIGINT AS segments,
        count(*) FILTER (WHERE segments > 1) AS multipart,
        max(segments) AS max_segments
    FROM in_scope
    WHERE kind = 'sms'
    GROUP BY ALL
)

SELECT * FROM final
ORDER BY encoding, direction;
