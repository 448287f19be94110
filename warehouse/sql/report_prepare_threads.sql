-- Every conversation (a DID and a contact) of a report's DIDs, its messages counted by whether
-- their local day is in the scope's days, by direction, with their first and last local day:
-- top_contacts and the totals' contact count read the rows in scope; reply_stats reads them all.
CREATE OR REPLACE TEMP TABLE report_threads AS
SELECT
    did,
    contact,
    in_days,
    count(*) AS messages,
    count(*) FILTER (WHERE direction = 'inbound') AS inbound,
    count(*) FILTER (WHERE direction = 'outbound') AS outbound,
    min(local_day) AS first_day,
    max(local_day) AS last_day
FROM temp.report_local_messages
GROUP BY ALL;
