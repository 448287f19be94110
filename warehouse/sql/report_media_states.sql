-- Attachments of the MMS in scope per state (all four listed), bytes, and each state's share.
WITH

states AS (
    SELECT unnest(['stored', 'expired', 'failed', 'pending']) AS state
),

counted AS (
    SELECT state, sum(files)::BIGINT AS files, sum(bytes) AS bytes
    FROM temp.report_media
    GROUP BY ALL
),

final AS (
    SELECT
        st.state,
        coalesce(c.files, 0) AS files,
        coalesce(c.bytes, 0)::BIGINT AS bytes,
        round(coalesce(c.files, 0) / nullif(sum(coalesce(c.files, 0)) OVER (), 0), 4) AS share
    FROM states AS st
    LEFT JOIN counted AS c ON c.state = st.state
)

SELECT * FROM final
ORDER BY array_position(['stored', 'expired', 'failed', 'pending'], state);
