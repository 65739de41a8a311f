-- Macros shared by the SQL files and available to analysts.
-- Wilson score interval (95%, z = 1.96) for k successes out of n trials; NULL when n = 0. Clamped to [0, 1]
-- because floating point gives -1e-17 for k = 0.
CREATE OR REPLACE MACRO wilson_low(k, n) AS
    CASE WHEN n > 0 THEN greatest(0.0,
        ((k / n) + 1.96 ^ 2 / (2 * n) - 1.96 * sqrt((k / n) * (1 - k / n) / n + 1.96 ^ 2 / (4 * n ^ 2)))
        / (1 + 1.96 ^ 2 / n))
    END;
CREATE OR REPLACE MACRO wilson_high(k, n) AS
    CASE WHEN n > 0 THEN least(1.0,
        ((k / n) + 1.96 ^ 2 / (2 * n) + 1.96 * sqrt((k / n) * (1 - k / n) / n + 1.96 ^ 2 / (4 * n ^ 2)))
        / (1 + 1.96 ^ 2 / n))
    END;
-- Repeat chains (docs/metrics.md): a contact continues the chain of the same customer and intent when it starts
-- after the previous contact's end and within window_days days of it. Used by contact outcomes, journeys, alerts.
CREATE OR REPLACE MACRO continues_chain(started_at, previous_end, window_days) AS
    previous_end IS NOT NULL
    AND started_at > previous_end
    AND started_at <= previous_end + to_days(CAST(window_days AS INTEGER));
-- The intent a contact is counted under: the source's label, else the triage model's prediction, else 'unknown'.
CREATE OR REPLACE MACRO contact_intent(labelled, predicted) AS coalesce(labelled, predicted, 'unknown');
