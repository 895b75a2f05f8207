-- The payment sandbox's intents, shared by every replica so that any of them can confirm, read,
-- cancel or refund an intent another one created. state is the sandbox's own JSON record of the
-- intent (never a card number); payment_id makes creating an intent idempotent.

CREATE TABLE sandbox_intents (
    id         TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL UNIQUE,
    state      TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
