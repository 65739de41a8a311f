-- Per source, what the runs ($run_ids) of one command read and quarantined: records read, records quarantined, and
-- files rejected whole (unreadable, unknown shape) on the days the run ingested. The CLI turns it into the quarantined
-- share.
WITH sources (source, asset) AS (
    VALUES ('transcripts', 'raw.conversations'), ('telemetry', 'raw.telemetry'), ('events', 'raw.events')
),
ingested AS (
    SELECT s.source, a.partition_date, a.records_read, a.records_quarantined
    FROM audit.runs AS a JOIN sources AS s USING (asset)
    WHERE a.run_id IN (SELECT unnest($run_ids::VARCHAR[]))
)
SELECT
    s.source,
    coalesce(sum(i.records_read), 0)::BIGINT AS records_read,
    coalesce(sum(i.records_quarantined), 0)::BIGINT AS records_quarantined,
    (SELECT count(*) FROM quarantine.rejects AS q
     WHERE q.source = s.source AND q.source_line IS NULL
       AND q.partition_date IN (SELECT partition_date FROM ingested WHERE source = s.source)) AS files_rejected
FROM sources AS s LEFT JOIN ingested AS i USING (source)
GROUP BY s.source
ORDER BY s.source;
