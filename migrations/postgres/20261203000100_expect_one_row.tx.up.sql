-- expect_one_row fails a statement whose write had to touch exactly one row and touched another
-- number: it raises SQLSTATE WX004 with DETAIL what, which fails the transaction. The service
-- saves an order with an UPDATE … WHERE version = the version it read, wrapped as
--   WITH updated AS (UPDATE … RETURNING 1) SELECT expect_one_row(count(*), 'order') FROM updated
-- so that a lost version check refuses by itself, and the save can travel with the COMMIT instead
-- of waiting for its count of rows first.
CREATE FUNCTION expect_one_row(touched BIGINT, what TEXT) RETURNS VOID
LANGUAGE plpgsql AS $$
BEGIN
    IF touched <> 1 THEN
        RAISE EXCEPTION '% changed concurrently: % rows matched its version, not 1', what, touched
            USING ERRCODE = 'WX004', DETAIL = what;
    END IF;
END
$$;
