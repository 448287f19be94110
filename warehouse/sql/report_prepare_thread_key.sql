-- How reply_stats tells conversations apart: by a 64-bit hash of (DID, contact), which sorts far
-- faster than the two strings, unless two of the conversations share a hash; then by the strings.
CREATE OR REPLACE TEMP TABLE report_thread_key AS
SELECT count(DISTINCT (did, contact)) <> count(DISTINCT hash(did, contact)) AS by_name
FROM temp.report_threads;
