DROP FUNCTION expect_one_row(BIGINT, TEXT);
