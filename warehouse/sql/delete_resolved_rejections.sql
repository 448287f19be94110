-- A replay of one window: its rejected rows that the batch no longer rejects (read now, or
-- rejected for another reason, which is a row of its own) are no longer listed.
DELETE FROM rejected_records AS r
WHERE r.provider = $provider
    AND r.account = $account
    AND r.window_start = $window_start
    AND r.window_end = $window_end
    AND r.record_hash NOT IN (
        SELECT rejected_record_hash(b.source, b.record, b.reason) FROM batch_rejected AS b
    );
