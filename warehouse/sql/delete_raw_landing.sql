-- Forget one landed answer (its file is missing or changed: it cannot be replayed).
DELETE FROM raw_landing
WHERE path = $path;
