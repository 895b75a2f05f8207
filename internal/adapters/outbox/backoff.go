package outbox

import (
	"errors"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/jackc/pgx/v5/pgconn"
)

// pollBackoff tells the relay's SQL subscriber how long to wait before its next read: not at all
// after a batch or after losing a race for the outbox to another relay or writer, PollInterval when
// the outbox was empty, RetryInterval after a real error. watermill's default recognises only
// deadlocks; this one also knows SQLITE_BUSY and PostgreSQL's serialization failure.
//
// After a read whose batch the broker refused (refused reports it until a publish succeeds) it
// waits RetryInterval, outside any transaction: on SQLite a read holds the only write lock, and
// reading again at once would keep it from the API for as long as the broker refuses.
type pollBackoff struct {
	poll    time.Duration
	retry   time.Duration
	refused func() bool // nil: never
}

func (b pollBackoff) HandleError(logger watermill.LoggerAdapter, noMsg bool, err error) time.Duration {
	switch {
	case err == nil && b.refused != nil && b.refused():
		return b.retry
	case err == nil && noMsg:
		return b.poll
	case err == nil:
		return 0
	case errors.Is(err, errNothingToRelay), errors.Is(err, errBrokerBusy):
		return b.poll
	case lostRace(err):
		logger.Debug("outbox relay: another transaction holds the outbox, reading again", watermill.LogFields{"err": err.Error()})
		return 0
	default:
		logger.Error("outbox relay: reading the outbox failed", err, watermill.LogFields{"retry_in": b.retry.String()})
		return b.retry
	}
}

// PostgreSQL error codes of a lost race: serialization_failure (another relay moved the offsets
// row under this one's snapshot) and deadlock_detected.
const (
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
)

func lostRace(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == pgSerializationFailure || pgErr.Code == pgDeadlockDetected
	}
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked")
}
