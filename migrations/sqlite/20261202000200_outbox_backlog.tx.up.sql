-- Postgres counts the relay's backlog through a function (outbox_backlog) that walks the primary
-- key from the acked position; SQLite's count already searches by "offset" from it, and needs none.
SELECT 1;
