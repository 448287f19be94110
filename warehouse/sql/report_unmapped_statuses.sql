-- Raw carrier statuses of the messages that read 'unknown', by direction, with their messages:
-- no news, an explicit unknown, or a text no rule knows; the report keeps the last
-- (transform.status.unmapped_only: the rules are polars, not SQL).
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
