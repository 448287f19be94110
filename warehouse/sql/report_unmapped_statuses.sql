-- Raw carrier statuses that did not map (status 'unknown'), by direction, with their messages.
WITH

final AS (
    SELECT
        carrier_status,
        direction,
        sum(messages)::BIGINT AS messages,
        min(local_day) AS first_day,
        max(local_day) AS last_day
    FROM temp.report_messages
    WHERE status = 'unknown'
    GROUP BY ALL
)

SELECT * FROM final
ORDER BY messages DESC, carrier_status, direction;
