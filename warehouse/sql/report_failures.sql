-- Failed messages grouped by DID, direction, kind and the raw carrier status the carrier gave
-- (an inbound can fail too; the delivery rate counts outbound only).
WITH

final AS (
    SELECT
        did,
        direction,
        kind,
        carrier_status,
        sum(messages)::BIGINT AS messages,
        min(local_day) AS first_day,
        max(local_day) AS last_day
    FROM temp.report_messages
    WHERE status = 'failed'
    GROUP BY ALL
)

SELECT * FROM final
ORDER BY messages DESC, did, direction, kind, carrier_status;
