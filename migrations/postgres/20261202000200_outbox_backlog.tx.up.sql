-- outbox_backlog counts the committed events the consumer group has not relayed yet: those after
-- its acked (transaction_id, offset), or every one before its first ack. It walks the primary key
-- from that position and never reads the relayed rows, which the table keeps for a day
-- (WOLFIX_PRUNE_OUTBOX_AFTER). A count over the whole table, as before, was planned as a scan
-- of every row (77 ms with 300,000 rows kept, on each scrape and each /readyz); with the acked
-- position a parameter the planner cannot see, it still chose that scan (122 ms), so sequential
-- scans are off for this function's one statement.
CREATE FUNCTION outbox_backlog(consumer_group_name TEXT) RETURNS BIGINT
LANGUAGE sql STABLE
SET enable_seqscan = off
AS $$
    SELECT count(*) FROM outbox_messages m WHERE (m.transaction_id, m."offset") > (
        SELECT COALESCE(o.last_processed_transaction_id, '0'), COALESCE(o.offset_acked, 0)
        FROM (SELECT) AS always LEFT JOIN outbox_offsets o ON o.consumer_group = consumer_group_name)
$$;
