-- Delivery rate per DID and for all ('*'): delivered / outbound whose status is final.
-- Final means delivered or failed; sent, pending and unknown are not counted either way.
WITH

outbound AS (
    SELECT did, status, messages
    FROM temp.report_messages
    WHERE direction = 'outbound'
),

counted AS (
    SELECT
        CASE WHEN grouping(did) = 1 THEN '*' ELSE did END AS did,
        coalesce(sum(messages), 0)::BIGINT AS outbound,
        coalesce(sum(messages) FILTER (WHERE status = 'delivered'), 0)::BIGINT AS delivered,
        coalesce(sum(messages) FILTER (WHERE status = 'failed'), 0)::BIGINT AS failed,
        coalesce(
            sum(messages) FILTER (WHERE status NOT IN ('delivered', 'failed')), 0
        )::BIGINT AS not_final
    FROM outbound
    GROUP BY GROUPING SETS ((did), ())
),

final AS (
    SELECT
        did,
        outbound,
        delivered,
        failed,
        not_final,
        round(delivered / nullif(delivered + failed, 0), 4) AS delivery_rate
    FROM counted
)

SELECT * FROM final
ORDER BY did = '*', did;
