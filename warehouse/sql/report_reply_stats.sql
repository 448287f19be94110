-- Reply rate and latency per DID and for all ('*'). An inbound message is replied when an
-- outbound to the same contact on the same DID follows it before that contact's next inbound,
-- that is when the next message of its conversation is outbound; the latency runs from the
-- inbound to that outbound. Inbound messages in scope count; their replies may fall after its
-- last day. A conversation without a DID or a contact has no replies.
WITH

positioned AS NOT MATERIALIZED (
    -- a message's place in its conversation: its instant in microseconds, doubled, plus one for
    -- an outbound; so at equal instants the inbound comes first and a same-second answer counts
    SELECT
        did,
        contact,
        did IS NOT NULL AND contact IS NOT NULL AS threaded,
        in_days,
        epoch_us(sent_at) * 2 + (direction = 'outbound')::BIGINT AS position,
        -- computed here, not in the window's PARTITION BY: there it costs a quarter more
        hash(did, contact) AS conversation
    FROM temp.report_local_messages
),

threads AS (
    -- only what the next steps need is carried through the sort: not the contact
    SELECT
        did,
        threaded,
        in_days,
        position,
        lead(position) OVER (PARTITION BY conversation ORDER BY position) AS next_position
    FROM positioned
    WHERE NOT (SELECT by_name FROM temp.report_thread_key)
    UNION ALL
    SELECT
        did,
        threaded,
        in_days,
        position,
        lead(position) OVER (PARTITION BY did, contact ORDER BY position) AS next_position
    FROM positioned
    WHERE (SELECT by_name FROM temp.report_thread_key)
),

inbound AS (
    SELECT
        did,
        position >> 1 AS sent_us,
        CASE WHEN threaded AND (next_position & 1) = 1 THEN next_position >> 1 END AS replied_us
    FROM threads
    WHERE (position & 1) = 0 AND in_days
),

latencies AS (
    SELECT
        did,
        replied_us,
        epoch(make_timestamp(replied_us) - make_timestamp(sent_us)) / 60.0 AS latency_minutes
    FROM inbound
),

counted AS (
    SELECT
        CASE WHEN grouping(did) = 1 THEN '*' ELSE did END AS did,
        count(*) AS inbound,
        count(replied_us) AS replied,
        quantile_cont(latency_minutes, [0.5, 0.9]) AS quantiles
    FROM latencies
    GROUP BY GROUPING SETS ((did), ())
),

final AS (
    SELECT
        did,
        inbound,
        replied,
        round(replied / nullif(inbound, 0), 4) AS reply_rate,
        round(quantiles[1], 2) AS median_minutes,
        round(quantiles[2], 2) AS p90_minutes
    FROM counted
)

SELECT * FROM final
ORDER BY did = '*', did;
