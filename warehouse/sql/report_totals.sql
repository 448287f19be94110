-- The report's headline numbers: messages by direction and kind, segments, contacts, DIDs, span.
WITH

messages AS (
    SELECT did, contact, direction, kind, segments, sent_at
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
        count(*) AS messages,
        count(*) FILTER (WHERE direction = 'inbound') AS inbound,
        count(*) FILTER (WHERE direction = 'outbound') AS outbound,
        count(*) FILTER (WHERE kind = 'sms') AS sms,
        count(*) FILTER (WHERE kind = 'mms') AS mms,
        coalesce(sum(segments), 0)::BIGINT AS segments,
        count(DISTINCT contact) AS contacts,
        count(DISTINCT did) AS dids,
        min(local_day) AS first_day,
        max(local_day) AS last_day
    FROM in_scope
)

SELECT * FROM final;
