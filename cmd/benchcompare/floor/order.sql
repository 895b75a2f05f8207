-- pgbench script: the database floor of one checkout on the service's own tables. ONE transaction:
-- two conditional stock updates in ascending product order (RETURNING the prices the order needs), the
-- order, its two items, its payment and one outbox row of about 300 bytes; one commit, 8 round
-- trips. Run with -M prepared: the best Postgres itself can do for the work one order needs.
\set a random(1, 1000)
\set b random(1, 999)
\set b CASE WHEN :b >= :a THEN :b + 1 ELSE :b END
\set p1 least(:a, :b)
\set p2 greatest(:a, :b)
\set cust random(1, 100000)
BEGIN;
UPDATE products SET stock = stock - 1, updated_at = now()
 WHERE id = 'floor-product-' || :p1 AND stock >= 1
RETURNING price_minor AS price1 \gset
UPDATE products SET stock = stock - 1, updated_at = now()
 WHERE id = 'floor-product-' || :p2 AND stock >= 1
RETURNING price_minor AS price2 \gset
\set total :price1 + :price2 + 700
INSERT INTO orders (id, number, customer_id, status, currency, total_minor, delivery_fee_minor,
                    recipient_first_name, recipient_last_name, recipient_phone, recipient_email,
                    delivery_method, delivery_city, delivery_street, delivery_house_number, created_at, updated_at)
SELECT o.id, 'WX-' || o.id, 'floor-customer-' || :cust, 'Pending', 'USD', :total, 700, 'Olena', 'Koval',
       '+380501234567', 'olena@example.com', 'courier', 'Kyiv', 'Khreshchatyk', '22', now(), now()
FROM (SELECT gen_random_uuid()::text AS id) AS o
RETURNING set_config('floor.order_id', id, true);
INSERT INTO order_items (order_id, line_no, product_id, title, seller_id, unit_price_minor, quantity)
VALUES (current_setting('floor.order_id'), 0, 'floor-product-' || :p1, 'Floor product ' || :p1, 'floor-seller', :price1, 1),
       (current_setting('floor.order_id'), 1, 'floor-product-' || :p2, 'Floor product ' || :p2, 'floor-seller', :price2, 1);
INSERT INTO payments (id, order_id, method, provider, intent_id, amount_minor, currency, status)
VALUES ('pay-' || current_setting('floor.order_id'), current_setting('floor.order_id'), 'card', 'sandbox',
        'pi_' || replace(current_setting('floor.order_id'), '-', ''), :total, 'USD', 'Pending');
INSERT INTO outbox_messages (uuid, payload, metadata, transaction_id)
VALUES (gen_random_uuid()::text,
        convert_to('{"id":"' || gen_random_uuid() || '","type":"orders.created","orderId":"'
                   || current_setting('floor.order_id') || '","customerId":"floor-customer-' || :cust
                   || '","data":{"status":"Pending","paymentStatus":"Pending","total":' || :total
                   || ',"currency":"USD","items":[{"productId":"floor-product-' || :p1 || '","quantity":1},'
                   || '{"productId":"floor-product-' || :p2 || '","quantity":1}]},"occurredAt":"2026-11-30T12:00:00Z"}', 'UTF8'),
        '{"name":"orders.created"}', pg_current_xact_id());
COMMIT;
