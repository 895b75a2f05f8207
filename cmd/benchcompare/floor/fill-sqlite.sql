-- The SQLite floor's starting state, on a file migrated with the service's own migrations: as
-- fill.sql does for Postgres, 1,000 products with a stock no run can exhaust and 50,000 historical
-- orders (2 items, a payment and an outbox row each), then fresh statistics.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO products (id, seller_id, title, price_minor, currency, stock, created_at, updated_at)
SELECT 'floor-product-' || i, 'floor-seller', 'Floor product ' || i, 1000 + i, 'USD', 1000000000,
       CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
FROM n;

CREATE TEMP TABLE hist AS
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000)
SELECT 'hist-' || i AS id, 'floor-customer-' || (1 + abs(random()) % 10000) AS customer_id,
       1 + abs(random()) % 1000 AS p1, datetime('now', '-' || i || ' seconds') AS created_at
FROM n;

INSERT INTO orders (id, number, customer_id, status, currency, total_minor, delivery_fee_minor,
                    recipient_first_name, recipient_last_name, recipient_phone, recipient_email,
                    delivery_method, delivery_city, delivery_street, delivery_house_number, created_at, updated_at)
SELECT id, 'WX-' || id, customer_id, 'Confirmed', 'USD', 4700, 700, 'Olena', 'Koval', '+380501234567',
       'olena@example.com', 'courier', 'Kyiv', 'Khreshchatyk', '22', created_at, created_at
FROM hist;
INSERT INTO order_items (order_id, line_no, product_id, title, seller_id, unit_price_minor, quantity)
SELECT id, l, 'floor-product-' || (1 + (p1 + l) % 1000), 'Floor product', 'floor-seller', 2000, 1
FROM hist, (SELECT 0 AS l UNION ALL SELECT 1);
INSERT INTO payments (id, order_id, method, provider, intent_id, amount_minor, currency, status)
SELECT 'pay-' || id, id, 'card', 'sandbox', 'pi_' || id, 4700, 'USD', 'Pending' FROM hist;
INSERT INTO outbox_messages (uuid, payload, metadata)
SELECT 'hist-event-' || id, CAST('{"type":"orders.created","orderId":"' || id || '"}' AS BLOB), '{}' FROM hist;

DROP TABLE hist;
ANALYZE;
