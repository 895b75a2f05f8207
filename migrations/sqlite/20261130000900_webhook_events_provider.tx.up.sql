-- The payment provider whose webhook route delivered the event; '' for events recorded before
-- providers were named (they came from the default provider).
ALTER TABLE webhook_events ADD COLUMN provider TEXT NOT NULL DEFAULT '';
