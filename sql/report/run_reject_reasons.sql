-- The top reject reasons of the days the runs ($run_ids) of one command ingested, per source, rule and field, with an
-- example file and line and the first example's reason.
WITH days AS (
    SELECT DISTINCT partition_date,
           CASE asset WHEN 'raw.conversations' THEN 'transcripts' WHEN 'raw.telemetry' THEN 'telemetry'
                      ELSE 'events' END AS source
    FROM audit.runs
    WHERE run_id IN (SELECT unnest($run_ids::VARCHAR[]))
      AND asset IN ('raw.conversations', 'raw.telemetry', 'raw.events')
)
SELECT
    q.source,
    q.rule,
    q.field,
    count(*) AS records,
    arg_min(q.source_file || coalesce(' line ' || q.source_line, ' (whole file)'),
            (q.source_file, coalesce(q.source_line, 0))) AS example,
    arg_min(q.reason, (q.source_file, coalesce(q.source_line, 0))) AS example_reason
FROM quarantine.rejects AS q
JOIN days AS d USING (source, partition_date)
GROUP BY ALL
ORDER BY records DESC, q.source, q.rule
LIMIT 12;
