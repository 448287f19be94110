-- Attachments still to download: pending ones, and failed ones with attempts left or whose
-- last attempt ended before $retry_before (an outage over many runs loses nothing).
SELECT provider, account, message_id, position, url, state, attempts
FROM media
WHERE (
        state = 'pending'
        OR (
            state = 'failed'
            AND (attempts < $max_attempts OR fetched_at < $retry_before)
        )
    )
    AND ($provider IS NULL OR provider = $provider)
    AND ($account IS NULL OR account = $account)
ORDER BY attempts, provider, account, first_seen_at, message_id, position
LIMIT $limit;
