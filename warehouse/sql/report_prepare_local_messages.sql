-- The messages a report reads (of one account or all, on one DID or all), each with its local time in the scope's zone and
-- whether its local day is in the scope's days; a temp view over report_scope (prepared first).
CREATE OR REPLACE TEMP VIEW report_local_messages AS
WITH

offsets AS (
    SELECT
        m.*,
        s.tz AS scope_tz,
        s.first_day AS scope_first_day,
        s.last_day AS scope_last_day,
        -- NULL outside the hours the scope holds offsets for (a negative index would count
        -- from the list's end)
        CASE
            WHEN epoch_us(m.sent_at) >= s.first_hour_us
                THEN s.offsets[(epoch_us(m.sent_at) - s.first_hour_us) // 3600000000 + 1]
        END AS offset_us
    FROM main.messages AS m
    CROSS JOIN temp.report_scope AS s
    WHERE (s.did IS NULL OR m.did = s.did) AND (s.account IS NULL OR m.account = s.account)
),

localised AS (
    SELECT
        *,
        make_timestamp(
            CASE
                WHEN offset_us IS NULL THEN epoch_us(sent_at AT TIME ZONE scope_tz)
                ELSE epoch_us(sent_at) + offset_us
            END
        ) AS local_time
    FROM offsets
)

SELECT
    * EXCLUDE (scope_tz, scope_first_day, scope_last_day, offset_us),
    local_time::DATE AS local_day,
    (scope_first_day IS NULL OR local_time::DATE >= scope_first_day)
        AND (scope_last_day IS NULL OR local_time::DATE <= scope_last_day) AS in_days
FROM localised;
