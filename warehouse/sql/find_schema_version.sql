-- The newest migration applied to this database (NULL when none).
SELECT max(version) AS schema_version
FROM schema_migrations;
