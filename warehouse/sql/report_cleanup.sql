-- Drops the temp tables and view a report prepared (report_prepare_*.sql).
DROP TABLE IF EXISTS temp.report_media;
DROP TABLE IF EXISTS temp.report_thread_key;
DROP TABLE IF EXISTS temp.report_threads;
DROP TABLE IF EXISTS temp.report_messages;
DROP VIEW IF EXISTS temp.report_local_messages;
DROP TABLE IF EXISTS temp.report_scope;
