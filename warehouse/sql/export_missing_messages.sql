-- Messages in an export's parquet files that the archive does not hold: how many, and when
-- the first and the last of them were sent.
SELECT
    count(*) AS missing,
    min(exported.sent_at) AS first_sent_at,
    max(exported.sent_at) AS last_sent_at
FROM read_parquet($files) AS exported
ANTI JOIN messages USING (provider, account, kind, message_id);
