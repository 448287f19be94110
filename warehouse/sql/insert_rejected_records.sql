-- Rejected raw rows, once each: a rerun of the window finds them by record_hash.
-- Each row carries the window it was read in (window_start, window_end).
INSERT INTO rejected_records
    (provider, account, source, record, reason, record_hash, window_start, window_end, seen_at)
SELECT
    provider,
    account,
    source,
    record,
    reason,
    rejected_record_hash(source, record, reason),
    window_start,
    window_end,
    $seen_at
FROM batch_rejected
ON CONFLICT (provider, account, record_hash) DO NOTHING;
