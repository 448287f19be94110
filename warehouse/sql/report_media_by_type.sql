-- Attachments of the MMS in scope per sniffed content type and state, with their bytes.
WITH

final AS (
    SELECT
        coalesce(content_type, '(not stored)') AS content_type,
        state,
        sum(files)::BIGINT AS files,
        coalesce(sum(bytes), 0)::BIGINT AS bytes
    FROM temp.report_media
    GROUP BY ALL
)

SELECT * FROM final
ORDER BY files DESC, content_type, state;
