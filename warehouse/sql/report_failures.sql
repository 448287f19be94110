-- Failed messages grouped by DID, kind and the raw carrier status the carrier gave.
WITH

messages AS (
    SELECT did, kind, direction, carrier_status, status, sent_at
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
        kind,
        carrier_status,
        count(*) AS messages,
        min(local_day) AS first_day,
        max(local_day) AS last_day
    FROM in_scope
    WHERE status = 'failed'
    GROUP BY ALL
)

SELECT * FROM final
ORDER BY messages DESC, did, kind, carrier_status;
