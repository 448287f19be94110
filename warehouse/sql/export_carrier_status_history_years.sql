-- The UTC years of seen_at, each a partition of the carrier_status_history export (from the
-- epoch microseconds: the same UTC year, without a time zone lookup per row).
SELECT DISTINCT CAST(year(make_timestamp(epoch_us(seen_at))) AS INTEGER) AS year
FROM carrier_status_history
ORDER BY year;
