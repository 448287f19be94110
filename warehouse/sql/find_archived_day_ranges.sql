-- The local days the committed windows cover, per account, as runs of consecutive days: more
-- than one run per account means days between them were never archived. A window covers no day
-- after the local day ($timezone) it was committed on: those were not over (an older version
-- let a backfill end in the future). A run's last day that every window holding it was
-- committed on, that day not yet over, has `last_until`: the latest of those commits.
WITH

covered AS (
    SELECT
        provider,
        account,
        window_start,
        least(window_end, CAST(timezone($timezone, completed_at) AS DATE)) AS window_end,
        CAST(timezone($timezone, completed_at) AS DATE) AS commit_day,
        completed_at
    FROM window_checkpoints
),

ordered AS (
    SELECT
        provider,
        account,
        window_start,
        window_end,
        commit_day,
        completed_at,
        max(window_end) OVER (
            PARTITION BY provider, account
            ORDER BY window_start, window_end
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS reached_before
    FROM covered
),

numbered AS (
    SELECT
        *,
        sum(
            CASE WHEN reached_before IS NULL OR window_start > reached_before + 1 THEN 1 ELSE 0 END
        ) OVER (
            PARTITION BY provider, account
            ORDER BY window_start, window_end
            ROWS UNBOUNDED PRECEDING
        ) AS run
    FROM ordered
),

spans AS (
    SELECT
        provider,
        account,
        run,
        min(window_start) AS first_day,
        max(window_end) AS last_day
    FROM numbered
    GROUP BY provider, account, run
),

final AS (
    SELECT
        s.provider,
        s.account,
        s.first_day,
        s.last_day,
        CASE WHEN bool_and(n.commit_day = s.last_day) THEN max(n.completed_at) END AS last_until
    FROM spans AS s
    INNER JOIN numbered AS n
        ON n.provider = s.provider
        AND n.account = s.account
        AND n.run = s.run
        AND n.window_end = s.last_day
    GROUP BY s.provider, s.account, s.run, s.first_day, s.last_day
)

SELECT * FROM final
ORDER BY provider, account, first_day;
