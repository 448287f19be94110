-- A report's scope as a one-row temp table: the zone, the local days, the DID, and the zone's
-- UTC offset (microseconds) for every UTC hour the archive spans. With it a message's local time
-- is its instant plus a looked-up offset, not a time zone conversion per message (the costliest
-- step of a report over millions of rows). An hour in which the offset changes (a transition off
-- the hour, which few zones have) holds NULL, and its messages are converted one by one.
-- The hours are those from 2000 to two days from now at most: one message dated 1970 or 2999
-- (a provider's bad date) would otherwise make millions of them. Messages outside are
-- converted one by one too.
CREATE OR REPLACE TEMP TABLE report_scope AS
WITH

span AS (
    -- (greatest and least skip NULLs: an empty archive would span 2000 to now without the CASE)
    SELECT
        CASE WHEN min(sent_at) IS NOT NULL THEN greatest(
            epoch_us(min(sent_at)), epoch_us(TIMESTAMPTZ '2000-01-01 00:00:00+00')
        ) END AS first_us,
        CASE WHEN max(sent_at) IS NOT NULL THEN least(
            epoch_us(max(sent_at)), epoch_us(now()) + 2 * 86400000000
        ) END AS last_us
    FROM main.messages
),

hours AS (
    -- from the start of the first message's UTC hour (floored, also before 1970)
    SELECT unnest(range(
        first_us - ((first_us % 3600000000) + 3600000000) % 3600000000, last_us + 1, 3600000000
    )) AS hour_us
    FROM span
),

offsets AS (
    SELECT
        hour_us,
        epoch_us((make_timestamp(hour_us) AT TIME ZONE 'UTC') AT TIME ZONE $tz)
            - hour_us AS at_start,
        epoch_us((make_timestamp(hour_us + 3599999999) AT TIME ZONE 'UTC') AT TIME ZONE $tz)
            - (hour_us + 3599999999) AS at_end
    FROM hours
)

SELECT
    $tz::VARCHAR AS tz,
    $start::DATE AS first_day,
    $end::DATE AS last_day,
    $did::VARCHAR AS did,
    $account::VARCHAR AS account,
    (SELECT min(hour_us) FROM offsets) AS first_hour_us,
    (
        SELECT list(CASE WHEN at_start = at_end THEN at_start END ORDER BY hour_us)
        FROM offsets
    ) AS offsets;
