-- Messages per local hour of day and ISO weekday (1 = Monday), every one of the 168 cells listed.
WITH

cells AS (
    SELECT w.weekday, h.hour
    FROM range(1, 8) AS w (weekday)
    CROSS JOIN range(0, 24) AS h (hour)
),

counted AS (
    SELECT isodow(local_time) AS weekday, hour(local_time) AS hour, count(*) AS messages
    FROM temp.report_local_messages
    WHERE in_days
    GROUP BY ALL
),

final AS (
    SELECT
        c.weekday::INTEGER AS weekday,
        ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][c.weekday] AS weekday_name,
        c.hour::INTEGER AS hour,
        coalesce(n.messages, 0) AS messages
    FROM cells AS c
    LEFT JOIN counted AS n
        ON n.weekday = c.weekday
        AND n.hour = c.hour
)

SELECT * FROM final
ORDER BY weekday, hour;
