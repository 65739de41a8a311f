-- Report next issues: the next-issue window (next_issues.window_days) metrics.next_issues was computed with, in days.
SELECT max(window_days) AS window_days
FROM metrics.next_issues
