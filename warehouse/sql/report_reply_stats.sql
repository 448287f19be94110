-- Reply rate and latency per DID and for all ('*'), counted by turn. A turn is a run of
-- inbound messages from one contact on one DID with no outbound to that contact between them
-- (a long text split into parts, or several texts in a row, is one turn). A turn is replied
-- when an outbound to that contact on that DID follows within $reply_window_minutes of the
-- turn's first inbound (a later one picks the conversation up again); its latency runs from
-- that first inbound to that outbound. Turns that start in scope count; their replies may
-- fall after its last day. Short codes and senders that are no phone number (an alphanumeric
-- sender ID: automated senders, which cannot be answered) and messages without a DID or a
-- contact make no turns.
WITH

positioned AS NOT MATERIALIZED (
    -- a message's place in its conversation: its instant in microseconds, doubled, plus one for
    -- an outbound; so at equal instants the inbound comes first and a same-second answer counts
    SELECT
        did,
        in_days,
        epoch_us(sent_at) * 2 + (direction = 'outbound')::BIGINT AS position,
        -- computed here, not in the window's PARTITION BY: there it costs a quarter more
        hash(did, contact) AS conversation,
        contact
    FROM temp.report_local_messages
    WHERE did IS NOT NULL
        AND contact IS NOT NULL
        AND contact_kind IS DISTINCT FROM 'short_code'
        -- a sender ID with letters in it; an odd run of digits may still be a number
        AND NOT coalesce(contact_kind = 'other' AND regexp_matches(contact, '[A-Za-z]'), false)
),

threads AS (
    -- only what the next steps need is carried through the sort: not the contact. A message's
    -- reply is the first outbound after it (scanned for: `min` over the frame would build a
    -- segment tree, a third slower on 10M messages; the scan is long only where one contact
    -- writes thousands of times without an answer).
    SELECT
        did,
        in_days,
        position,
        lag(position) OVER after_it AS previous_position,
        first_value(CASE WHEN (position & 1) = 1 THEN position END IGNORE NULLS) OVER (
            after_it ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
        ) AS reply_position
    FROM positioned
    WHERE NOT (SELECT by_name FROM temp.report_thread_key)
    WINDOW after_it AS (PARTITION BY conversation ORDER BY position)
    UNION ALL
    SELECT
        did,
        in_days,
        position,
        lag(position) OVER after_it AS previous_position,
        first_value(CASE WHEN (position & 1) = 1 THEN position END IGNORE NULLS) OVER (
            after_it ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
        ) AS reply_position
    FROM positioned
    WHERE (SELECT by_name FROM temp.report_thread_key)
    WINDOW after_it AS (PARTITION BY did, contact ORDER BY position)
),

turns AS (
    -- the first inbound of each turn: the conversation's first message, or one after an outbound
    SELECT
        did,
        position >> 1 AS sent_us,
        reply_position >> 1 AS replied_us
    FROM threads
    WHERE in_days AND (position & 1) = 0
        AND (previous_position IS NULL OR (previous_position & 1) = 1)
),

replies AS (
    -- an outbound later than the window picks the conversation up again: no reply
    SELECT
        did,
        sent_us,
        if(replied_us - sent_us <= $reply_window_minutes * 60000000, replied_us, NULL)
            AS replied_us
    FROM turns
),

latencies AS (
    SELECT
        did,
        replied_us,
        (replied_us - sent_us) / 60000000.0 AS latency_minutes
    FROM replies
),

counted AS (
    SELECT
        CASE WHEN grouping(did) = 1 THEN '*' ELSE did END AS did,
        count(*) AS turns,
        count(replied_us) AS replied,
        count(*) FILTER (WHERE latency_minutes <= 1440) AS replied_within_day,
        quantile_cont(latency_minutes, [0.5, 0.9]) AS quantiles
    FROM latencies
    GROUP BY GROUPING SETS ((did), ())
),

final AS (
    SELECT
        did,
        turns,
        replied,
        round(replied / nullif(turns, 0), 4) AS reply_rate,
        round(replied_within_day / nullif(turns, 0), 4) AS within_day_rate,
        round(quantiles[1], 2) AS median_minutes,
        round(quantiles[2], 2) AS p90_minutes
    FROM counted
)

SELECT * FROM final
ORDER BY did = '*', did;
