-- admit_unpaid is the cap on unpaid card orders inside a checkout: it takes the customer's
-- advisory lock, held until the commit (two keys: 20261130, then a hash of the customer id; two-key
-- locks never collide with the one-key locks others take, bun/migrate's; customers whose ids hash
-- alike merely wait for each other), then counts the customer's Pending card orders and the units they hold,
-- leaving out the order being placed, in a statement of its own (a fresh snapshot under READ
-- COMMITTED, taken after the lock: it sees what a checkout it waited for committed). When the
-- order would pass the cap (a bound of 0 is off) it raises SQLSTATE WX003 with DETAIL
-- "orders units new_units max_orders max_units", which fails the transaction. Raising lets the
-- service send the call with the COMMIT.
CREATE FUNCTION admit_unpaid(buyer TEXT, new_order TEXT, new_units BIGINT, max_orders BIGINT, max_units BIGINT)
RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
    held_orders BIGINT;
    held_units  BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock(20261130, hashtext(buyer));
    SELECT count(DISTINCT o.id), coalesce(sum(oi.quantity), 0) INTO held_orders, held_units
      FROM orders AS o JOIN payments AS pay ON pay.order_id = o.id JOIN order_items AS oi ON oi.order_id = o.id
     WHERE o.customer_id = buyer AND o.id <> new_order AND o.status = 'Pending' AND pay.method = 'card';
    IF (max_orders > 0 AND held_orders >= max_orders) OR (max_units > 0 AND held_units + new_units > max_units) THEN
        RAISE EXCEPTION 'customer % holds % unpaid card orders with % units', buyer, held_orders, held_units
            USING ERRCODE = 'WX003',
                  DETAIL = format('%s %s %s %s %s', held_orders, held_units, new_units, max_orders, max_units);
    END IF;
END
$$;
