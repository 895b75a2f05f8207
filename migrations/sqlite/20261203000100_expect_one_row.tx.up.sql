-- Postgres saves an order with its version check inside the statement (expect_one_row), so the
-- save can travel with the COMMIT; SQLite counts the changed rows of its UPDATE and needs none.
SELECT 1;
