-- Identity across sessions, defined once (working file only): the customer a device (anonymous_key: a cookie, app
-- install or device id) belongs to around a day, for the sessions and telemetry that carry no customer of their own
-- ("identity stitching", as Snowplow's user mapping and PostHog's identify do). signals.session_friction uses it; every
-- other table reads the customer of a session from there.
--
-- A login is an event or telemetry record that carries both an anonymous_key and a customer_key. A device is the
-- customer's on a day when it logged in as that customer, and as no other, on a day within lookback_days days before
-- or after it: a visitor who browses logged out and logs in later (or logged in earlier and browses logged out now,
-- after the login expired) is that customer. A device that logged in as two or more customers in that span is shared
-- (a family computer, a shop's tablet, a server-side tracker's host name) and stitched to none of them: attributing
-- one customer's browsing to another would put it into the wrong journey and publish it under the wrong key, so the
-- sessions stay anonymous. (Snowplow instead maps every session of a device to the device's latest user id, with no
-- time limit.) Consent does not depend on this window: a refusing customer's devices are every device ever seen with
-- their key (main.refused_records).

-- device_customers(first_day, last_day, lookback_days): one row per day in [first_day, last_day] and device that
-- logged in within lookback_days days of it (logins are read from first_day - lookback_days to last_day +
-- lookback_days): customers = how many customers it logged in as in that span, customer_key = the customer when that
-- is exactly one, else NULL (shared device).
CREATE OR REPLACE MACRO device_customers(first_day, last_day, lookback_days) AS TABLE
WITH logins AS (
    SELECT partition_date AS login_day, anonymous_key, customer_key
    FROM raw.events
    WHERE partition_date BETWEEN CAST(first_day - to_days(CAST(lookback_days AS INTEGER)) AS DATE)
                             AND CAST(last_day + to_days(CAST(lookback_days AS INTEGER)) AS DATE)
      AND anonymous_key IS NOT NULL AND customer_key IS NOT NULL
    UNION
    SELECT partition_date, anonymous_key, customer_key
    FROM raw.telemetry
    WHERE partition_date BETWEEN CAST(first_day - to_days(CAST(lookback_days AS INTEGER)) AS DATE)
                             AND CAST(last_day + to_days(CAST(lookback_days AS INTEGER)) AS DATE)
      AND anonymous_key IS NOT NULL AND customer_key IS NOT NULL
),
days AS (
    SELECT CAST(unnest(generate_series(CAST(first_day AS TIMESTAMP), CAST(last_day AS TIMESTAMP), INTERVAL 1 DAY))
                AS DATE) AS day
)
SELECT
    d.day,
    l.anonymous_key,
    count(DISTINCT l.customer_key) AS customers,
    CASE WHEN count(DISTINCT l.customer_key) = 1 THEN min(l.customer_key) END AS customer_key
FROM days AS d
JOIN logins AS l
  ON l.login_day BETWEEN CAST(d.day - to_days(CAST(lookback_days AS INTEGER)) AS DATE)
                     AND CAST(d.day + to_days(CAST(lookback_days AS INTEGER)) AS DATE)
GROUP BY d.day, l.anonymous_key;
