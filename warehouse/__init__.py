"""The DuckDB warehouse: migrations, loads, report SQL and parquet export."""
