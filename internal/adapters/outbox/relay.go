package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/components/forwarder"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wolfix/orders/internal/adapters/telemetry"
)

// ErrRelayStuck is wrapped by Relay.Health when committed events are not reaching the broker.
var ErrRelayStuck = errors.New("outbox relay is stuck")

// RelayConfig tunes a Relay; zero values take the defaults.
type RelayConfig struct {
	// BatchSize is how many rows one read takes (default 100; 500 when the broker pipelines, as
	// NATS does). A stopped relay sends the unacked part of its batch again, so smaller batches
	// mean fewer duplicates.
	BatchSize int
	// PollInterval is the pause after a read that found nothing (default 10ms); it bounds the
	// relay's lag when the outbox is idle.
	PollInterval time.Duration
	// RetryInterval is the first pause after a failed read (a database error, or a batch the
	// broker refused); while the failures go on each pause doubles, with jitter, up to 15s. It is
	// also the pause between attempts to publish a refused message within one read (default 1s).
	RetryInterval time.Duration
	// StuckAfter is how long events may wait without anything being published before Health
	// reports the relay stuck (default 15s).
	StuckAfter time.Duration
}

// Defaults of RelayConfig.
const (
	defaultBatchSize     = 100
	pipelinedBatchSize   = 500
	defaultPollInterval  = 10 * time.Millisecond
	defaultRetryInterval = time.Second
	defaultStuckAfter    = 15 * time.Second
)

func (c RelayConfig) withDefaults() RelayConfig {
	if c.BatchSize <= 0 {
		c.BatchSize = defaultBatchSize
	}
	if c.PollInterval <= 0 {
		c.PollInterval = defaultPollInterval
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = defaultRetryInterval
	}
	if c.StuckAfter <= 0 {
		c.StuckAfter = defaultStuckAfter
	}
	return c
}

// relayGroup is the consumer group of every relay. Relays sharing one database share it, so that
// watermill's offsets row serializes them: each read locks the row (SELECT … FOR UPDATE in a
// REPEATABLE READ transaction), a relay that waited for it fails with a serialization error and
// reads again from the offset the other one acked. Two relays never relay one batch at the same
// time, and none skips a row, because reads stop below the oldest running transaction.
const relayGroup = "wolfix_relay"

// Relay forwards committed outbox rows to the broker with watermill's forwarder. It runs inside
// `wolfix serve` or alone in `wolfix relay`; several may run on one database.
type Relay struct {
	db         *sql.DB
	dialect    dialect
	cfg        RelayConfig
	subscriber *wsql.Subscriber
	forwarder  *forwarder.Forwarder
	metrics    *metrics
	closeOnce  sync.Once
	closeErr   error

	runMu   sync.Mutex
	ran     bool // Run started the forwarder
	stopped bool // Close was called: a later Run returns at once
	runDone chan struct{}
}

// NewRelay builds a relay reading dialect's ("postgres" or "sqlite") outbox in db and publishing
// to broker, which stays the caller's to close. A SQLite db must be opened with _txlock=immediate.
func NewRelay(db *sql.DB, dialectName string, broker message.Publisher, logger *slog.Logger, cfg RelayConfig) (*Relay, error) {
	pipeliner, pipelines := broker.(Pipeliner)
	if pipelines && cfg.BatchSize <= 0 {
		cfg.BatchSize = pipelinedBatchSize
	}
	cfg = cfg.withDefaults()
	d, err := dialectFor(dialectName, cfg.BatchSize)
	if err != nil {
		return nil, err
	}
	wlog := telemetry.WatermillLogger(logger)
	r := &Relay{db: db, dialect: d, cfg: cfg, runDone: make(chan struct{})}
	r.metrics = newMetrics(r.scrapedGauges()...)
	gate := readGate{Beginner: wsql.BeginnerFromStdSQL(db), db: db, pendingQuery: d.pendingQuery}
	schema := d.schema
	if roomer, ok := broker.(Roomer); ok {
		gate.room = roomer.Room
		schema = roomSchema{SchemaAdapter: d.schema, limit: d.limitBatch, batch: cfg.BatchSize, room: roomer.Room}
	}
	var beginner wsql.Beginner = gate
	ackDeadline := d.ackDeadline
	resendInterval := cfg.RetryInterval
	if d.resendInterval > 0 {
		resendInterval = min(resendInterval, d.resendInterval)
	}
	var publisher message.Publisher = meteredPublisher{next: broker, metrics: r.metrics}
	if pipelines {
		pipelined := &pipelinedPublisher{next: pipeliner, metrics: r.metrics}
		publisher = pipelined
		beginner = flushingBeginner{Beginner: beginner, publisher: pipelined, retry: cfg.RetryInterval}
		ackDeadline = min(ackDeadline, pipelineAckDeadline)
	}
	backoff := newPollBackoff(cfg.PollInterval, cfg.RetryInterval, func() error { _, err := r.metrics.state(); return err }, logger)
	if pipelines {
		backoff.refusal = nil // a refused batch fails flushingTx's commit: an error like any other
	}
	r.subscriber, err = wsql.NewSubscriber(beginner, wsql.SubscriberConfig{
		ConsumerGroup:  relayGroup,
		AckDeadline:    &ackDeadline,
		PollInterval:   cfg.PollInterval,
		ResendInterval: resendInterval,
		RetryInterval:  cfg.RetryInterval,
		BackoffManager: backoff,
		SchemaAdapter:  schema,
		OffsetsAdapter: d.offsets,
	}, wlog)
	if err != nil {
		return nil, fmt.Errorf("outbox relay: sql subscriber: %w", err)
	}
	r.forwarder, err = forwarder.NewForwarder(r.subscriber, publisher, forwarderLog{LoggerAdapter: wlog, stopping: r.stopping}, forwarder.Config{
		ForwarderTopic: forwarderTopic,
		// a row that is not an envelope can never be relayed; holding it would stop every later event
		AckWhenCannotUnwrap: true,
	})
	if err != nil {
		return nil, fmt.Errorf("outbox relay: forwarder: %w", err)
	}
	return r, nil
}

// Roomer is a broker publisher that can tell how many more messages it takes right now (the
// in-process broker, whose queue is drained by consumers in the same process). The relay begins
// no read while it has no room and reads no more rows than it has room for, so that it does not
// hold a read transaction (on SQLite, the only write lock) for messages it would be refused.
type Roomer interface {
	Room() int
}

// Reasons the relay does not begin a read; the backoff waits PollInterval after either.
var (
	errNothingToRelay = errors.New("outbox relay: nothing to relay")
	errBrokerBusy     = errors.New("outbox relay: the broker has no room; waiting for its consumers")
)

// readGate begins the relay's read transactions, unless the broker has no room or (on SQLite,
// asked without a transaction) there is nothing to read.
type readGate struct {
	wsql.Beginner
	db           *sql.DB
	pendingQuery string
	room         func() int // nil: the broker does not tell
}

func (g readGate) BeginTx(ctx context.Context, opts *sql.TxOptions) (wsql.Tx, error) {
	if g.room != nil && g.room() <= 0 {
		return nil, errBrokerBusy
	}
	if g.pendingQuery != "" {
		var pending bool
		if err := g.db.QueryRowContext(ctx, g.pendingQuery, relayGroup).Scan(&pending); err != nil {
			return nil, fmt.Errorf("outbox relay: look for rows to relay: %w", err)
		}
		if !pending {
			return nil, errNothingToRelay
		}
	}
	return g.Beginner.BeginTx(ctx, opts)
}

// roomSchema reads at most as many rows as the broker has room for (and at most batch).
type roomSchema struct {
	wsql.SchemaAdapter
	limit func(n int) wsql.SchemaAdapter
	batch int
	room  func() int
}

func (s roomSchema) SelectQuery(params wsql.SelectQueryParams) (wsql.Query, error) {
	return s.limit(max(1, min(s.batch, s.room()))).SelectQuery(params)
}

// Run relays until ctx ends or Close is called. On the way out it stops reading first, so that
// what was already published is acked and only the rest of the batch is sent again.
func (r *Relay) Run(ctx context.Context) error {
	r.runMu.Lock()
	if r.stopped {
		r.runMu.Unlock()
		return nil
	}
	r.ran = true
	r.runMu.Unlock()
	defer close(r.runDone)
	r.metrics.markProgress(time.Now())
	stop := context.AfterFunc(ctx, func() { _ = r.Close() })
	defer stop()
	if err := r.forwarder.Run(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("outbox relay: %w", err)
	}
	return nil
}

// Running is closed once the relay reads the outbox.
func (r *Relay) Running() <-chan struct{} {
	return r.forwarder.Running()
}

// Close stops the relay: first the outbox reader (acking what was published), then the forwarder.
// A relay that never ran (an API replica with its relay off) closes only the reader: the
// forwarder's router would wait its whole close timeout for handlers that never started.
func (r *Relay) Close() error {
	r.closeOnce.Do(func() {
		r.runMu.Lock()
		r.stopped = true
		ran := r.ran
		r.runMu.Unlock()
		if ran { // let the forwarder finish subscribing: watermill-sql's Subscribe reads unguarded what Close writes
			select {
			case <-r.forwarder.Running():
			case <-r.runDone:
			}
		}
		r.closeErr = r.subscriber.Close()
		if ran {
			r.closeErr = errors.Join(r.closeErr, r.forwarder.Close())
		}
	})
	return r.closeErr
}

// stopping tells whether Close has begun.
func (r *Relay) stopping() bool {
	r.runMu.Lock()
	defer r.runMu.Unlock()
	return r.stopped
}

// Backlog counts the committed events not relayed yet (by any relay of this database).
func (r *Relay) Backlog(ctx context.Context) (int64, error) {
	var n int64
	if err := r.db.QueryRowContext(ctx, r.dialect.backlogQuery, relayGroup).Scan(&n); err != nil {
		return 0, fmt.Errorf("outbox: count backlog: %w", err)
	}
	return n, nil
}

// Health reports, for /readyz, whether committed events reach the broker: an error wrapping
// ErrRelayStuck while the broker refuses messages, or while events wait and nothing has been
// published for StuckAfter; another error when the outbox cannot be read.
func (r *Relay) Health(ctx context.Context) error {
	lastProgress, publishErr := r.metrics.state()
	if publishErr != nil {
		return fmt.Errorf("%w: the broker refuses messages: %w", ErrRelayStuck, publishErr)
	}
	backlog, err := r.Backlog(ctx)
	if err != nil {
		return err
	}
	if idle := time.Since(lastProgress); backlog > 0 && idle > r.cfg.StuckAfter {
		return fmt.Errorf("%w: %d events waiting, nothing published for %s%s", ErrRelayStuck, backlog,
			idle.Round(time.Second), r.heldBackBy(ctx))
	}
	return nil
}

// OldestOpenWriter returns how long the oldest transaction holding a transaction id has been open
// in the database's cluster (0 when none, and always on SQLite). On Postgres the relay reads only
// events of transactions older than that one, so a transaction left open stalls the relay while
// the broker is well: every event committed after it began waits until it ends.
func (r *Relay) OldestOpenWriter(ctx context.Context) (time.Duration, error) {
	if r.dialect.oldestWriterQuery == "" {
		return 0, nil
	}
	var seconds sql.NullFloat64
	if err := r.db.QueryRowContext(ctx, r.dialect.oldestWriterQuery).Scan(&seconds); err != nil {
		return 0, fmt.Errorf("outbox: oldest open transaction: %w", err)
	}
	return time.Duration(max(seconds.Float64, 0) * float64(time.Second)), nil
}

// heldBackBy names, for a stuck relay's report, a transaction open longer than StuckAfter: the
// likely cause when the broker takes what it is given.
func (r *Relay) heldBackBy(ctx context.Context) string {
	age, err := r.OldestOpenWriter(ctx)
	if err != nil || age <= r.cfg.StuckAfter {
		return ""
	}
	return fmt.Sprintf("; a transaction open for %s holds back the reads (pg_stat_activity)", age.Round(time.Second))
}

// scrapedGauges are the relay's series read from the database at scrape time.
func (r *Relay) scrapedGauges() []prometheus.Collector {
	gauges := []prometheus.Collector{newScrapedGauge("wolfix_outbox_backlog",
		"Committed events in the outbox not yet relayed to the broker.",
		func(ctx context.Context) (float64, error) {
			n, err := r.Backlog(ctx)
			return float64(n), err
		})}
	if r.dialect.oldestWriterQuery != "" {
		gauges = append(gauges, newScrapedGauge("wolfix_outbox_oldest_open_transaction_seconds",
			"Age of the oldest open transaction holding a transaction id in the Postgres cluster: the relay reads no event of a transaction that began after it until it ends.",
			func(ctx context.Context) (float64, error) {
				age, err := r.OldestOpenWriter(ctx)
				return age.Seconds(), err
			}))
	}
	return gauges
}

// Collectors are the relay's Prometheus metrics, for the caller to register: the outbox backlog,
// the lag from an event's occurredAt to its publication, and events published and failed by topic.
func (r *Relay) Collectors() []prometheus.Collector {
	return r.metrics.collectors()
}
