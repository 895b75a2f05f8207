-- Postgres marks handled events done through a function (mark_events_done), so that each mark is
-- looked up by its key whatever the table's statistics; SQLite plans the service's one UPDATE by
-- the key already, and needs none.
SELECT 1;
