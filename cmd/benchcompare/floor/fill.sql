-- The floor's starting state, on a database migrated with the service's own migrations: 1,000
-- products with a stock no run can exhaust, and 50,000 historical orders (2 items, a payment and an
-- outbox row each) so that indexes have a realistic size; then fresh statistics and a checkpoint.
INSERT INTO products (id, seller_id, title, price_minor, currency, stock, created_at, updated_at)
SELECT 'floor-product-' || n, 'floor-seller', 'Floor product ' || n, 1000 + n, 'USD', 1000000000, now(), now()
FROM generate_series(1, 1000) AS n;

CREATE TEMP TABLE hist AS
SELECT gen_random_uuid()::text AS id, 'floor-customer-' || (1 + (random() * 9999)::int) AS customer_id,
       1 + (random() * 999)::int AS p1, now() - (g || ' seconds')::interval AS created_at
FROM generate_series(1, 50000) AS g;

INSERT INTO orders (id, number, customer_id, status, currency, total_minor, delivery_fee_minor,
                    recipient_first_name, recipient_last_name, recipient_phone, recipient_email,
                    delivery_method, delivery_city, delivery_street, delivery_house_number, created_at, updated_at)
SELECT id, 'WX-' || id, customer_id, 'Confirmed', 'USD', 4700, 700, 'Olena', 'Koval', '+380501234567',
       'olena@example.com', 'courier', 'Kyiv', 'Khreshchatyk', '22', created_at, created_at
FROM hist;
INSERT INTO order_items (order_id, line_no, product_id, title, seller_id, unit_price_minor, quantity)
SELECT id, l, 'floor-product-' || (1 + (p1 + l) % 1000), 'Floor product', 'floor-seller', 2000, 1
FROM hist, generate_series(0, 1) AS l;
INSERT INTO payments (id, order_id, method, provider, intent_id, amount_minor, currency, status)
SELECT 'pay-' || id, id, 'card', 'sandbox', 'pi_' || replace(id, '-', ''), 4700, 'USD', 'Pending' FROM hist;
INSERT INTO outbox_messages (uuid, payload, metadata, transaction_id)
SELECT gen_random_uuid()::text, convert_to('{"type":"orders.created","orderId":"' || id || '"}', 'UTF8'), '{}',
       pg_current_xact_id()
FROM hist;

VACUUM ANALYZE;
CHECKPOINT;
