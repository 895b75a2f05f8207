DROP INDEX IF EXISTS webhook_events_unprocessed;
--bun:split
ALTER TABLE webhook_events DROP COLUMN locked_until;
--bun:split
DROP INDEX IF EXISTS idempotency_keys_expires_at;
--bun:split
ALTER TABLE idempotency_keys DROP COLUMN expires_at;
--bun:split
ALTER TABLE idempotency_keys DROP COLUMN locked_until;
--bun:split
ALTER TABLE idempotency_keys DROP COLUMN token;
