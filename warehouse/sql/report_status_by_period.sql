-- Messages per period ($grain of local time), direction and canonical status.
WITH

final AS (
    SELECT
        date_trunc($grain::VARCHAR, local_day)::DATE AS period,
        direction,
        status,
        sum(messages)::BIGINT AS messages
    FROM temp.report_messages
    GROUP BY ALL
)

SELECT * FROM final
ORDER BY period, direction, status;
