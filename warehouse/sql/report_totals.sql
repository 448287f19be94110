-- The report's headline numbers: messages by direction and kind, SMS segments, contacts, DIDs,
-- accounts (several are counted together unless the scope names one), span.
WITH

counted AS (
    SELECT
        coalesce(sum(messages), 0)::BIGINT AS messages,
        coalesce(sum(messages) FILTER (WHERE direction = 'inbound'), 0)::BIGINT AS inbound,
        coalesce(sum(messages) FILTER (WHERE direction = 'outbound'), 0)::BIGINT AS outbound,
        coalesce(sum(messages) FILTER (WHERE kind = 'sms'), 0)::BIGINT AS sms,
        coalesce(sum(messages) FILTER (WHERE kind = 'mms'), 0)::BIGINT AS mms,
        -- SMS are billed by segment, MMS are not: an MMS text's count says what it would take
        coalesce(sum(segments) FILTER (WHERE kind = 'sms'), 0)::BIGINT AS segments,
        count(DISTINCT did) AS dids,
        count(DISTINCT account) AS accounts,
        min(local_day) AS first_day,
        max(local_day) AS last_day
    FROM temp.report_messages
),

contacts AS (
    SELECT count(DISTINCT contact) AS contacts
    FROM temp.report_threads
    WHERE in_days
),

final AS (
    SELECT
        c.messages,
        c.inbound,
        c.outbound,
        c.sms,
        c.mms,
        c.segments,
        k.contacts,
        c.dids,
        c.accounts,
        c.first_day,
        c.last_day
    FROM counted AS c
    CROSS JOIN contacts AS k
)

SELECT * FROM final;
