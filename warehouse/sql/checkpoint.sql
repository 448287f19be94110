-- Write everything the write-ahead log holds into the database file.
CHECKPOINT;
