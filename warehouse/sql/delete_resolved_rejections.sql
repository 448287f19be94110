-- At the end of a replay, for one window whose every fetch was replayed: its listed rejected
-- rows that no replayed fetch rejects any more (read now, or rejected for another reason,
-- which is a row of its own) are no longer listed.
DELETE FROM rejected_records AS r
WHERE r.provider = $provider
    AND r.account = $account
    AND r.window_start = $window_start
    AND r.window_end = $window_end
    AND r.record_hash NOT IN (SELECT record_hash FROM replayed_rejections);
