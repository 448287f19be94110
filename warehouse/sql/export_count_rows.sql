-- Rows in the parquet files an export just wrote (read back, so the manifest counts what is on disk).
SELECT count(*) AS rows
FROM read_parquet($files, hive_partitioning = true);
