-- What the CSAT model trains on and scores: every consented contact started on a day in [$start_date, $end_date]
-- with its conversation signals, its CSAT and the intent it is counted under (contacts() in sql/setup/contacts.sql).
SELECT * FROM contacts($start_date, $end_date) ORDER BY conversation_id
