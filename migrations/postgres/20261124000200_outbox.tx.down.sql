DROP TABLE IF EXISTS consumed_events;
--bun:split
DROP TABLE IF EXISTS outbox_offsets;
--bun:split
DROP TABLE IF EXISTS outbox_messages;
