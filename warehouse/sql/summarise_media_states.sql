-- Attachments per account and state (every state listed, zero when none), with their bytes.
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

final AS (
    SELECT
        a.provider,
        a.account,
        s.state,
        coalesce(c.files, 0) AS files,
        coalesce(c.bytes, 0)::BIGINT AS bytes
    FROM accounts AS a
    CROSS JOIN states AS s
    LEFT JOIN counted AS c
        ON c.provider = a.provider
        AND c.account = a.account
        AND c.state = s.state
)

SELECT * FROM final
ORDER BY provider, account, array_position(['stored', 'pending', 'failed', 'expired'], state);
