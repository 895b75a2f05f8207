-- Postgres checks the unpaid cap through a function (admit_unpaid) so that the check can travel
-- with the COMMIT; SQLite runs in-process, has no round trips to save, and counts with a query.
SELECT 1;
