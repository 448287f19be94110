-- Whether this database has a schema_migrations table yet (1) or not (0).
SELECT count(*) AS ledgers
FROM duckdb_tables()
WHERE schema_name = 'main'
    AND table_name = 'schema_migrations';
