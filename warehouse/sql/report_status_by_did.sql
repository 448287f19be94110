-- Messages per DID, direction and canonical status.
WITH

messages AS (
    SELECT did, direction, status, sent_at
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
    SELECT did, direction, status, count(*) AS messages
    FROM in_scope
    GROUP BY ALL
)

SELECT * FROM final
ORDER BY did, direction, status;
