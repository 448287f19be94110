-- Local days on which a DID sent 80 or more SMS, near the API's limit of 100 SMS a day.
WITH

sent_per_day AS (
    SELECT did, local_day, sum(messages)::BIGINT AS outbound_sms
    FROM temp.report_messages
    WHERE direction = 'outbound' AND kind = 'sms'
    GROUP BY ALL
),

final AS (
    SELECT did, local_day, outbound_sms, 100 - outbound_sms AS headroom
    FROM sent_per_day
    WHERE outbound_sms >= 80
)

SELECT * FROM final
ORDER BY local_day, did;
