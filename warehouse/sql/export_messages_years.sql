-- The UTC years of sent_at, each a partition of the messages export. The year is taken from the
-- epoch microseconds: the same UTC year, without a time zone lookup per row.
SELECT DISTINCT CAST(year(make_timestamp(epoch_us(sent_at))) AS INTEGER) AS year
FROM messages
ORDER BY year;
