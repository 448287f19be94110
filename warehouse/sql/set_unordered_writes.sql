-- Writes need not keep the rows' order: DuckDB's threads then write row groups as each is
-- ready instead of in turn (the export's parquet writes take ~10% less time). Exported rows
-- were never sorted; readers sort on read.
SET preserve_insertion_order = false;
