-- The rejected rows a replay's windows reject again, by record_hash: kept for the replay's
-- end, when the listed rows no replayed fetch rejects any more are removed.
CREATE TEMP TABLE IF NOT EXISTS replayed_rejections (record_hash VARCHAR NOT NULL);
