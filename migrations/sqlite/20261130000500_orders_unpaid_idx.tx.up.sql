-- The per-customer cap on unpaid card orders counts a customer's Pending orders at every card
-- checkout: a partial index keeps that count to the few rows it is about.
CREATE INDEX orders_customer_pending_idx ON orders (customer_id) WHERE status = 'Pending';
