-- Local days on which a DID sent 80 or more SMS, near the API's limit of 100 SMS a day; and,
-- the reference not saying whether that limit is per DID or per account, days on which an
-- account's DIDs together sent that many (did '*'; only where more than one DID sent: else
-- the DID's own row says it).
WITH

sent_per_day AS (
    SELECT account, did, local_day, sum(messages)::BIGINT AS outbound_sms
    FROM temp.report_messages
    WHERE direction = 'outbound' AND kind = 'sms'
    GROUP BY ALL
),

sent_per_account_day AS (
    SELECT account, '*' AS did, local_day, sum(outbound_sms)::BIGINT AS outbound_sms
    FROM sent_per_day
    GROUP BY ALL
    HAVING count(*) > 1
),

final AS (
    SELECT account, did, local_day, outbound_sms, 100 - outbound_sms AS headroom
    FROM (SELECT * FROM sent_per_day UNION ALL SELECT * FROM sent_per_account_day)
    WHERE outbound_sms >= 80
)

-- each DID's days first, then the accounts' ('*'), the busiest first: the page shows the
-- first rows only, and days of DIDs together can be hundreds
SELECT * FROM final
ORDER BY did = '*', outbound_sms DESC, local_day, account, did;
