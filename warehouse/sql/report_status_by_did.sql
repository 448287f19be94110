-- Messages per DID, direction and canonical status.
WITH

final AS (
    SELECT did, direction, status, sum(messages)::BIGINT AS messages
    FROM temp.report_messages
    GROUP BY ALL
)

SELECT * FROM final
ORDER BY did, direction, status;
