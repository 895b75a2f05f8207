DROP FUNCTION outbox_backlog(TEXT);
