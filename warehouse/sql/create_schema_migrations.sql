-- The ledger of applied migrations; created before anything else so it can be read.
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER     PRIMARY KEY,
    name       VARCHAR     NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL,
    checksum   VARCHAR     NOT NULL
);
