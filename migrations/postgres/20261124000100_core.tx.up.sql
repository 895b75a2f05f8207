-- Core schema: catalog (products), ordering (orders, items, timeline), payments, the provider
-- webhook inbox and Idempotency-Key records. Money is BIGINT minor units beside an ISO-4217 code.

CREATE TABLE products (
    id          TEXT PRIMARY KEY,
    seller_id   TEXT NOT NULL,
    title       TEXT NOT NULL,
    price_minor BIGINT NOT NULL CHECK (price_minor >= 0),
    currency    TEXT NOT NULL CHECK (length(currency) = 3),
    stock       BIGINT NOT NULL CHECK (stock >= 0),
    photo_url   TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
--bun:split

CREATE TABLE orders (
    id                     TEXT PRIMARY KEY,
    number                 TEXT NOT NULL UNIQUE,
    customer_id            TEXT NOT NULL,
    status                 TEXT NOT NULL
        CHECK (status IN ('Pending', 'Confirmed', 'Shipped', 'Delivered', 'Cancelled', 'Refunded')),
    currency               TEXT NOT NULL CHECK (length(currency) = 3),
    total_minor            BIGINT NOT NULL,
    delivery_fee_minor     BIGINT NOT NULL CHECK (delivery_fee_minor >= 0),
    recipient_first_name   TEXT NOT NULL,
    recipient_last_name    TEXT NOT NULL,
    recipient_middle_name  TEXT NOT NULL DEFAULT '',
    recipient_phone        TEXT NOT NULL,
    recipient_email        TEXT NOT NULL,
    delivery_method        TEXT NOT NULL CHECK (delivery_method IN ('courier', 'branch', 'locker')),
    delivery_city          TEXT NOT NULL,
    delivery_street        TEXT NOT NULL DEFAULT '',
    delivery_house_number  TEXT NOT NULL DEFAULT '',
    delivery_branch_number TEXT NOT NULL DEFAULT '',
    dispute_status         TEXT,
    dispute_reason         TEXT NOT NULL DEFAULT '',
    dispute_amount_minor   BIGINT NOT NULL DEFAULT 0 CHECK (dispute_amount_minor >= 0),
    dispute_opened_at      TIMESTAMPTZ,
    dispute_closed         BOOLEAN NOT NULL DEFAULT FALSE,
    stock_returned         BOOLEAN NOT NULL DEFAULT FALSE,
    version                BIGINT NOT NULL DEFAULT 0,
    created_at             TIMESTAMPTZ NOT NULL,
    updated_at             TIMESTAMPTZ NOT NULL,
    CHECK (total_minor >= delivery_fee_minor)
);
--bun:split
CREATE INDEX orders_customer_created_idx ON orders (customer_id, created_at);
--bun:split
CREATE INDEX orders_status_created_idx ON orders (status, created_at);
--bun:split
CREATE INDEX orders_created_idx ON orders (created_at, id);
--bun:split

-- Items copy the product as it was ordered; no foreign key to products, which belong to the
-- catalog module.
CREATE TABLE order_items (
    order_id         TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no          INTEGER NOT NULL CHECK (line_no >= 0),
    product_id       TEXT NOT NULL,
    title            TEXT NOT NULL,
    seller_id        TEXT NOT NULL,
    unit_price_minor BIGINT NOT NULL CHECK (unit_price_minor >= 0),
    quantity         BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, line_no)
);
--bun:split

-- One payment per order.
CREATE TABLE payments (
    id              TEXT PRIMARY KEY,
    order_id        TEXT NOT NULL UNIQUE REFERENCES orders (id) ON DELETE CASCADE,
    method          TEXT NOT NULL CHECK (method IN ('card', 'cash_on_delivery')),
    provider        TEXT NOT NULL DEFAULT '',
    intent_id       TEXT,
    amount_minor    BIGINT NOT NULL CHECK (amount_minor >= 0),
    currency        TEXT NOT NULL CHECK (length(currency) = 3),
    status          TEXT NOT NULL CHECK (status IN ('Pending', 'Paid', 'Failed', 'Refunded')),
    failure_code    TEXT NOT NULL DEFAULT '',
    failure_message TEXT NOT NULL DEFAULT '',
    paid_at         TIMESTAMPTZ,
    CHECK (intent_id IS NULL OR method = 'card'),
    CHECK ((status IN ('Paid', 'Refunded')) = (paid_at IS NOT NULL))
);
--bun:split
CREATE UNIQUE INDEX payments_intent_id_key ON payments (intent_id) WHERE intent_id IS NOT NULL;
--bun:split

-- Refunds of an order's payment, in the order they were requested; amounts in the order's currency.
CREATE TABLE refunds (
    id                 TEXT PRIMARY KEY,
    order_id           TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    seq                INTEGER NOT NULL CHECK (seq >= 0),
    amount_minor       BIGINT NOT NULL CHECK (amount_minor > 0),
    status             TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    reason             TEXT NOT NULL DEFAULT '',
    restock            BOOLEAN NOT NULL DEFAULT FALSE,
    provider_refund_id TEXT NOT NULL DEFAULT '',
    external           BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         TIMESTAMPTZ NOT NULL,
    UNIQUE (order_id, seq)
);
--bun:split
CREATE INDEX refunds_pending_idx ON refunds (created_at) WHERE status = 'pending';
--bun:split

CREATE TABLE order_timeline (
    order_id    TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL CHECK (seq >= 0),
    at          TIMESTAMPTZ NOT NULL,
    type        TEXT NOT NULL,
    from_status TEXT NOT NULL DEFAULT '',
    to_status   TEXT NOT NULL,
    cause       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (order_id, seq)
);
--bun:split

-- The webhook inbox: every verified provider event, once, by the provider's event id; processed_at
-- is set by the transaction that applied it, problem and attempts by failed processing.
CREATE TABLE webhook_events (
    event_id     TEXT PRIMARY KEY,
    type         TEXT NOT NULL,
    intent_id    TEXT NOT NULL DEFAULT '',
    api_version  TEXT NOT NULL DEFAULT '',
    payload      BYTEA NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL,
    processed_at TIMESTAMPTZ,
    problem      TEXT NOT NULL DEFAULT '',
    attempts     INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0)
);
--bun:split

CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    done         BOOLEAN NOT NULL DEFAULT FALSE,
    status       INTEGER NOT NULL DEFAULT 0,
    body         BYTEA,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, key)
);
