-- The 20 contacts with the most messages: inbound, outbound, DIDs used, first and last local day.
WITH

per_contact AS (
    SELECT
        contact,
        sum(messages)::BIGINT AS messages,
        sum(inbound)::BIGINT AS inbound,
        sum(outbound)::BIGINT AS outbound,
        count(DISTINCT did) AS dids,
        min(first_day) AS first_day,
        max(last_day) AS last_day
    FROM temp.report_threads
    WHERE in_days
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
