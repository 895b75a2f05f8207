-- reserve_stock takes quantities[i] units of product ids[i], one product after the other in the
-- order given (ascending ids: concurrent reservations queue on the rows instead of deadlocking).
-- Each conditional UPDATE waits for a row another transaction holds and re-checks its newest
-- stock. A line that cannot be served raises, naming the product in DETAIL: SQLSTATE WX001 when
-- it is short, WX002 when it does not exist; the transaction is then failed, so nothing is kept.
-- Raising instead of returning what is short lets the service send the call with the COMMIT
-- (one round trip for both): a shortage fails the commit.
CREATE FUNCTION reserve_stock(ids TEXT[], quantities BIGINT[]) RETURNS VOID
LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. coalesce(cardinality(ids), 0) LOOP
        UPDATE products SET stock = stock - quantities[i] WHERE id = ids[i] AND stock >= quantities[i];
        CONTINUE WHEN FOUND;
        IF EXISTS (SELECT 1 FROM products WHERE id = ids[i]) THEN
            RAISE EXCEPTION 'not enough units of product % are left', ids[i]
                USING ERRCODE = 'WX001', DETAIL = ids[i];
        END IF;
        RAISE EXCEPTION 'product % does not exist', ids[i] USING ERRCODE = 'WX002', DETAIL = ids[i];
    END LOOP;
END
$$;
