-- Messages and segments per period ($grain: day, week or month of local time), direction and kind.
WITH

final AS (
    SELECT
        date_trunc($grain::VARCHAR, local_day)::DATE AS period,
        direction,
        kind,
        sum(messages)::BIGINT AS messages,
        -- SMS segments: an MMS is not billed by segment, so its rows count none
        coalesce(sum(segments) FILTER (WHERE kind = 'sms'), 0)::BIGINT AS segments
    FROM temp.report_messages
    GROUP BY ALL
)

SELECT * FROM final
ORDER BY period, direction, kind;
