-- Migrations recorded in this database, oldest first.
SELECT version, name, checksum
FROM schema_migrations
ORDER BY version;
