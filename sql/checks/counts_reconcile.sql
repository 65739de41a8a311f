-- The counts_reconcile check of a source's first raw table ($table) for run $run_id: per day it ingested, the audit
-- counts (records read, loaded = rows written, quarantined, duplicates removed, erased), the rows of that day in the
-- table, and the quarantine rows of the source ($source) with a line (a rejected record, not an unreadable file).
SELECT
    a.partition_date, a.records_read, a.rows_written, a.records_quarantined, a.duplicates_removed,
    coalesce(a.records_erased, 0) AS records_erased,
    (SELECT count(*) FROM query_table($table) AS t WHERE t.partition_date = a.partition_date) AS in_table,
    (SELECT count(*) FROM quarantine.rejects AS q
     WHERE q.partition_date = a.partition_date AND q.source = $source AND q.source_line IS NOT NULL) AS in_quarantine
FROM audit.runs AS a
WHERE a.run_id = $run_id AND a.asset = $table
ORDER BY a.partition_date
