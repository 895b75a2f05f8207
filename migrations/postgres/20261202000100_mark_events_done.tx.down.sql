DROP FUNCTION mark_events_done(BIGINT, TEXT[], TEXT[]);
