-- Set DuckDB's memory limit on this connection ($limit: a size such as '512MB' or '536870912B').
SET memory_limit = $limit;
