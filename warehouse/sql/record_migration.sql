-- Record one applied migration (inside the migration's own transaction).
INSERT INTO schema_migrations (version, name, applied_at, checksum)
VALUES ($version, $name, current_timestamp, $checksum);
