-- Delivery rate per DID and for all ('*'): delivered / outbound whose status is final.
-- Final means delivered or failed; sent, pending and unknown are not counted either way.
WITH

messages AS (
    SELECT did, direction, status, sent_at
    FROM main.messages
),

localised AS (
    SELECT *, (sent_at AT TIME ZONE $tz)::DATE AS local_day
    FROM messages
),

in_scope AS (
    SELECT *
    FROM localised
    WHERE ($start::DATE IS NULL OR local_day >= $start::DATE)
        AND ($end::DATE IS NULL OR local_day <= $end::DATE)
        AND ($did::VARCHAR IS NULL OR did = $did::VARCHAR)
),

outbound AS (
    SELECT did, status
    FROM in_scope
    WHERE direction = 'outbound'
),

counted AS (
    SELECT
        CASE WHEN grouping(did) = 1 THEN '*' ELSE did END AS did,
        count(*) AS outbound,
        count(*) FILTER (WHERE status = 'delivered') AS delivered,
        count(*) FILTER (WHERE status = 'failed') AS failed,
        count(*) FILTER (WHERE status NOT IN ('delivered', 'failed')) AS not_final
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
