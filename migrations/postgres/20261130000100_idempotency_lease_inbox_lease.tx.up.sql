-- Idempotency-Key claims get a lease and a fencing token: a claim whose request died (no answer
-- kept before locked_until) is taken over by the next retry, which bumps token; the answer is kept
-- only by the transaction that still holds the token. Keys and answers expire at expires_at
-- (always written by the service; left nullable so that rows written without it stay valid).
ALTER TABLE idempotency_keys ADD COLUMN token BIGINT NOT NULL DEFAULT 0;
--bun:split
ALTER TABLE idempotency_keys ADD COLUMN locked_until TIMESTAMPTZ;
--bun:split
ALTER TABLE idempotency_keys ADD COLUMN expires_at TIMESTAMPTZ;
--bun:split
UPDATE idempotency_keys SET expires_at = created_at + INTERVAL '1 day';
--bun:split
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);
--bun:split

-- Webhook inbox: an unprocessed event is leased (locked_until) by the process that works on it, so
-- replicas never process one event at the same time; a failed event waits out its backoff the same way.
ALTER TABLE webhook_events ADD COLUMN locked_until TIMESTAMPTZ;
--bun:split
CREATE INDEX webhook_events_unprocessed ON webhook_events (received_at) WHERE processed_at IS NULL;
