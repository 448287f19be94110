-- Local days on which a DID sent 80 or more SMS, near the API's limit of 100 SMS a day.
WITH

messages AS (
    SELECT did, direction, kind, sent_at
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

sent_per_day AS (
    SELECT did, local_day, count(*) AS outbound_sms
    FROM in_scope
    WHERE direction = 'outbound' AND kind = 'sms'
    GROUP BY ALL
),

final AS (
    SELECT did, local_day, outbound_sms, 100 - outbound_sms AS headroom
    FROM sent_per_day
    WHERE outbound_sms >= 80
)

SELECT * FROM final
ORDER BY local_day, did;
