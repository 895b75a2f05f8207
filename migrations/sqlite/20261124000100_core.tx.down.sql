DROP TABLE IF EXISTS idempotency_keys;
--bun:split
DROP TABLE IF EXISTS webhook_events;
--bun:split
DROP TABLE IF EXISTS order_timeline;
--bun:split
DROP TABLE IF EXISTS refunds;
--bun:split
DROP TABLE IF EXISTS payments;
--bun:split
DROP TABLE IF EXISTS order_items;
--bun:split
DROP TABLE IF EXISTS orders;
--bun:split
DROP TABLE IF EXISTS products;
