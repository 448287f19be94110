-- DuckDB's memory limit on this connection, as text ("244.1 MiB").
SELECT current_setting('memory_limit') AS memory_limit;
