-- Messages the archive first saw at or before an instant (an export's): an archive never
-- loses one, and every message written later was first seen later, but for a replay's, which
-- keep the time their landed answer was fetched.
SELECT count(*) AS messages
FROM messages
WHERE first_seen_at <= $at;
