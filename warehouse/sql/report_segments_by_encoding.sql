-- SMS text by encoding and direction: messages, segments, and messages that took more than one.
WITH

final AS (
    SELECT
        encoding,
        direction,
        sum(messages)::BIGINT AS messages,
        coalesce(sum(segments), 0)::BIGINT AS segments,
        sum(multipart)::BIGINT AS multipart,
        max(max_segments) AS max_segments
    FROM temp.report_messages
    WHERE kind = 'sms'
    GROUP BY ALL
)

SELECT * FROM final
ORDER BY encoding, direction;
