package outbox

import (
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wolfix/orders/internal/adapters/outage"
)

// maxRetryInterval caps the relay's back-off: a dependency that comes back is noticed within it.
const maxRetryInterval = 15 * time.Second

// pollBackoff tells the relay's SQL subscriber how long to wait before its next read: not at all
// after a batch or after losing a race for the outbox to another relay or writer, PollInterval when
// the outbox was empty, and after a failure (a database error, or a batch the broker refused) a
// step of the relay's outage tracker: exponential with jitter from RetryInterval, growing while the
// failures go on, logged once per step, and starting again after the first read that works.
// watermill's default backoff recognises only deadlocks; this one also knows SQLITE_BUSY and
// PostgreSQL's serialization failure.
//
// The wait after a refused batch is spent outside any transaction: on SQLite a read holds the
// only write lock, and reading again at once would keep it from the API for as long as the broker
// refuses.
type pollBackoff struct {
	poll    time.Duration
	refusal func() error // the broker's refusal, until a publish succeeds; nil: never asked
	outage  *outage.Tracker
}

func newPollBackoff(poll, retry time.Duration, refusal func() error, log *slog.Logger) *pollBackoff {
	return &pollBackoff{poll: poll, refusal: refusal, outage: outage.New(outage.Config{First: retry,
		Most: maxRetryInterval, Log: log, Failing: "outbox relay: relaying fails; backing off",
		Recovered: "outbox relay: relaying works again"})}
}

func (b *pollBackoff) HandleError(logger watermill.LoggerAdapter, noMsg bool, err error) time.Duration {
	if err == nil && b.refusal != nil {
		if refused := b.refusal(); refused != nil {
			return b.outage.Failed(refused, "cause", "the broker refuses events")
		}
	}
	switch {
	case err == nil && noMsg:
		b.outage.Recovered()
		return b.poll
	case err == nil:
		b.outage.Recovered()
		return 0
	case errors.Is(err, errNothingToRelay), errors.Is(err, errBrokerBusy):
		return b.poll
	case lostRace(err):
		logger.Debug("outbox relay: another transaction holds the outbox, reading again", watermill.LogFields{"err": err.Error()})
		return 0
	default:
		return b.outage.Failed(err)
	}
}

// forwarderLog is the forwarder's logger with two of watermill's error lines lowered, since
// the relay reports them better or they are no fault:
//   - each message the broker refused ("Handler returned error", kept at debug level): the
//     back-off reports a refusing broker once per step instead;
//   - the router finding its handler gone (at info level) while the relay stops: Close stops
//     the outbox reader before the router, so the router sees its only handler end first.
type forwarderLog struct {
	watermill.LoggerAdapter
	stopping func() bool // the relay's Close has begun
}

// Messages of watermill's router that forwarderLog lowers.
const (
	handlerFailed      = "Handler returned error"
	allHandlersStopped = "All handlers stopped, closing router"
)

func (l forwarderLog) Error(msg string, err error, fields watermill.LogFields) {
	switch {
	case msg == handlerFailed:
		l.Debug(msg, fields.Add(watermill.LogFields{"err": err.Error()}))
	case msg == allHandlersStopped && l.stopping():
		l.Info(msg, fields)
	default:
		l.LoggerAdapter.Error(msg, err, fields)
	}
}

func (l forwarderLog) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return forwarderLog{LoggerAdapter: l.LoggerAdapter.With(fields), stopping: l.stopping}
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
