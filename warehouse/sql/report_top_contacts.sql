-- The 20 contacts with the most messages: inbound, outbound, DIDs used, first and last local day.
WITH

messages AS (
    SELECT did, contact, direction, sent_at
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

per_contact AS (
    SELECT
        contact,
        count(*) AS messages,
        count(*) FILTER (WHERE direction = 'inbound') AS inbound,
        count(*) FILTER (WHERE direction = 'outbound') AS outbound,
        count(DISTINCT did) AS dids,
        min(local_day) AS first_day,
        max(local_day) AS last_day
    FROM in_scope
    GROUP BY contact
),

final AS (
    SELECT *
    FROM per_contact
    ORDER BY messages DESC, contact
    LIMIT 20
)

SELECT * FROM final
ORDER BY messages DESC, contact;
