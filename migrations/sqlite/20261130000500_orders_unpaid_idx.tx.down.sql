DROP INDEX IF EXISTS orders_customer_pending_idx;
