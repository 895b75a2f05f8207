-- Transactional outbox (read by the outbox package's SQLite adapters) and the consumers' dedupe table.
-- Every topic shares outbox_messages: rows are forwarder envelopes that name their destination topic.
-- AUTOINCREMENT never reuses an offset, and SQLite has one writer at a time, so offsets are
-- assigned in commit order and the relay may read them in that order.

CREATE TABLE outbox_messages (
    "offset"   INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid       TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    payload    BLOB,
    metadata   TEXT
);
--bun:split

-- One row per relay consumer group: the last relayed offset.
CREATE TABLE outbox_offsets (
    consumer_group TEXT NOT NULL PRIMARY KEY,
    offset_acked   INTEGER NOT NULL
);
--bun:split

-- Events each in-repo consumer has handled (done_at set) or is handling (claimed_at, a lease in
-- Unix milliseconds): a redelivered event is dropped.
CREATE TABLE consumed_events (
    consumer   TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    claimed_at INTEGER NOT NULL,
    done_at    INTEGER,
    PRIMARY KEY (consumer, event_id)
);
