-- Attachments per account and state (every state listed, zero when none), with their bytes,
-- and for the failed ones why: each last_error with its count, the commonest first.
WITH

accounts AS (
    SELECT DISTINCT provider, account
    FROM media
),

states AS (
    SELECT unnest(['stored', 'pending', 'failed', 'expired']) AS state
),

counted AS (
    SELECT provider, account, state, count(*) AS files, sum(size_bytes) AS bytes
    FROM media
    GROUP BY ALL
),

reasons AS (
    SELECT provider, account, coalesce(last_error, 'no reason kept') AS reason, count(*) AS files
    FROM media
    WHERE state = 'failed'
    GROUP BY ALL
),

why_failed AS (
    SELECT
        provider,
        account,
        'failed' AS state,
        string_agg(reason || ' (' || files || ')', ', ' ORDER BY files DESC, reason) AS why
    FROM reasons
    GROUP BY ALL
),

final AS (
    SELECT
        a.provider,
        a.account,
        s.state,
        coalesce(c.files, 0) AS files,
        coalesce(c.bytes, 0)::BIGINT AS bytes,
        w.why
    FROM accounts AS a
    CROSS JOIN states AS s
    LEFT JOIN counted AS c
        ON c.provider = a.provider
        AND c.account = a.account
        AND c.state = s.state
    LEFT JOIN why_failed AS w
        ON w.provider = a.provider
        AND w.account = a.account
        AND w.state = s.state
)

SELECT * FROM final
ORDER BY provider, account, array_position(['stored', 'pending', 'failed', 'expired'], state);
