-- Messages and segments per DID, direction and kind.
WITH

final AS (
    SELECT
        did,
        direction,
        kind,
        sum(messages)::BIGINT AS messages,
        -- SMS segments: an MMS is not billed by segment, so its rows count none
        coalesce(sum(segments) FILTER (WHERE kind = 'sms'), 0)::BIGINT AS segments
    FROM temp.report_messages
    GROUP BY ALL
)

SELECT * FROM final
ORDER BY did, direction, kind;
