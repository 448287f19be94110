-- Reply rate and latency per DID and for all ('*'). An inbound message is replied when an
-- outbound to the same contact on the same DID follows it before that contact's next inbound;
-- the latency runs from the inbound to the first such outbound. Inbound messages in scope
-- count; their replies may fall after $end.
WITH

messages AS (
    SELECT did, contact, direction, sent_at
    FROM main.messages
    WHERE ($did::VARCHAR IS NULL OR did = $did::VARCHAR)
),

threads AS (
    SELECT
        *,
        (sent_at AT TIME ZONE $tz)::DATE AS local_day,
        -- at equal instants the inbound comes first, so a same-second answer counts
        row_number() OVER (
            PARTITION BY did, contact ORDER BY sent_at, direction = 'outbound'
        ) AS position
    FROM messages
),

followed AS (
    SELECT
        *,
        min(position) FILTER (WHERE direction = 'outbound') OVER after AS next_outbound,
        min(position) FILTER (WHERE direction = 'inbound') OVER after AS next_inbound
    FROM threads
    WINDOW after AS (
        PARTITION BY did, contact ORDER BY position
        ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
    )
),

inbound AS (
    SELECT f.did, f.sent_at, r.sent_at AS replied_at
    FROM followed AS f
    LEFT JOIN threads AS r
        ON r.did = f.did
        AND r.contact = f.contact
        AND r.position = f.next_outbound
        AND (f.next_inbound IS NULL OR f.next_outbound < f.next_inbound)
    WHERE f.direction = 'inbound'
        AND ($start::DATE IS NULL OR f.local_day >= $start::DATE)
        AND ($end::DATE IS NULL OR f.local_day <= $end::DATE)
),

latencies AS (
    SELECT did, replied_at, epoch(replied_at - sent_at) / 60.0 AS latency_minutes
    FROM inbound
),

counted AS (
    SELECT
        CASE WHEN grouping(did) = 1 THEN '*' ELSE did END AS did,
        count(*) AS inbound,
        count(replied_at) AS replied,
        quantile_cont(latency_minutes, 0.5) AS median_minutes,
        quantile_cont(latency_minutes, 0.9) AS p90_minutes
    FROM latencies
    GROUP BY GROUPING SETS ((did), ())
),

final AS (
    SELECT
        did,
        inbound,
        replied,
        round(replied / nullif(inbound, 0), 4) AS reply_rate,
        round(median_minutes, 2) AS median_minutes,
        round(p90_minutes, 2) AS p90_minutes
    FROM counted
)

SELECT * FROM final
ORDER BY did = '*', did;
