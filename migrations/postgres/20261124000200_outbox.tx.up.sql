-- Transactional outbox (read by watermill-sql's PostgreSQL adapters) and the consumers' dedupe table.
-- Every topic shares outbox_messages: rows are forwarder envelopes that name their destination topic.
-- transaction_id orders rows by writing transaction; the relay reads only transactions older than
-- every running one, so a slow commit is never skipped. The payload is BYTEA (pgx sends it as bytes).

CREATE TABLE outbox_messages (
    "offset"         BIGSERIAL,
    "uuid"           VARCHAR(36) NOT NULL,
    "created_at"     TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "payload"        BYTEA DEFAULT NULL,
    "metadata"       JSON DEFAULT NULL,
    "transaction_id" xid8 NOT NULL,
    PRIMARY KEY ("transaction_id", "offset")
);
--bun:split

-- One row per relay consumer group: the last relayed (transaction_id, offset). Relays lock it
-- (SELECT … FOR UPDATE) so that two of them never relay the same batch at once.
CREATE TABLE outbox_offsets (
    consumer_group                VARCHAR(255) NOT NULL PRIMARY KEY,
    offset_acked                  BIGINT,
    last_processed_transaction_id xid8 NOT NULL
);
--bun:split

-- Events each in-repo consumer has handled (done_at set) or is handling (claimed_at, a lease in
-- Unix milliseconds): a redelivered event is dropped.
CREATE TABLE consumed_events (
    consumer   VARCHAR(100) NOT NULL,
    event_id   VARCHAR(64) NOT NULL,
    claimed_at BIGINT NOT NULL,
    done_at    BIGINT,
    PRIMARY KEY (consumer, event_id)
);
