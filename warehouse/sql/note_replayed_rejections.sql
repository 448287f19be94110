-- A replayed fetch's rejected rows, noted for the end of the replay.
INSERT INTO replayed_rejections
SELECT rejected_record_hash(b.source, b.record, b.reason) FROM batch_rejected AS b;
