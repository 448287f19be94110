-- The local days the committed windows cover, per account, as runs of consecutive days: more
-- than one run per account means days between them were never archived. A window covers no day
-- after the local day ($timezone) it was committed on: those were not over (an older version
-- let a backfill end in the future).
WITH

covered AS (
    SELECT
        provider,
        account,
        window_start,
        least(window_end, CAST(timezone($timezone, completed_at) AS DATE)) AS window_end
    FROM window_checkpoints
),

ordered AS (
    SELECT
        provider,
        account,
        window_start,
        window_end,
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

final AS (
    SELECT
        provider,
        account,
        min(window_start) AS first_day,
        max(window_end) AS last_day
    FROM numbered
    GROUP BY provider, account, run
)

SELECT * FROM final
ORDER BY provider, account, first_day;
