-- Postgres reserves stock through a function (reserve_stock) so that the call can travel with the
-- COMMIT; SQLite runs in-process, has no round trips to save, and reserves with plain UPDATEs.
SELECT 1;
