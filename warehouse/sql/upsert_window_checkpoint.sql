-- Mark the window done. Inserted/updated add up over merges; the rest describe the latest one.
INSERT INTO window_checkpoints (
    provider, account, window_start, window_end, completed_at, sms_rows, mms_rows,
    messages_inserted, messages_updated, rejected, merges
)
VALUES (
    $provider, $account, $window_start, $window_end, $completed_at, $sms_rows, $mms_rows,
    $messages_inserted, $messages_updated, $rejected, 1
)
ON CONFLICT (provider, account, window_start, window_end) DO UPDATE SET
    completed_at = excluded.completed_at,
    sms_rows = excluded.sms_rows,
    mms_rows = excluded.mms_rows,
    messages_inserted = window_checkpoints.messages_inserted + excluded.messages_inserted,
    messages_updated = window_checkpoints.messages_updated + excluded.messages_updated,
    rejected = excluded.rejected,
    merges = window_checkpoints.merges + 1;
