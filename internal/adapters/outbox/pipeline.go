package outbox

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
)

// Pipeliner is a broker publisher that sends without waiting for each message's acknowledgement
// (the broker package's NATS JetStream publisher is one). PublishAsync sends; Flush waits for the
// broker's answer to everything sent since the previous Flush and fails when any message was not
// stored. Messages sent one after another must be stored in that order or not at all (a prefix).
type Pipeliner interface {
	message.Publisher
	PublishAsync(topic string, msgs ...*message.Message) error
	Flush(ctx context.Context) error
}

// pipelineAckDeadline replaces the dialect's AckDeadline when the relay pipelines: a message the
// broker refused after an earlier one of its batch went missing cannot be sent before the batch is
// read again, so the read transaction gives up on it sooner.
const pipelineAckDeadline = 5 * time.Second

// errBatchLost refuses the rest of a batch once the broker lost one of its messages: sending
// later messages first would break the order of their order's events.
var errBatchLost = errors.New("outbox relay: the broker lost an earlier message of this batch; it will be read again")

// pipelinedPublisher is the relay's publisher over a Pipeliner. The forwarder acks each row as soon
// as it is sent; the rows' offsets are committed with the read transaction, and that commit
// (flushingTx) first waits for the broker to have stored every message sent from the batch. A
// batch whose messages did not all arrive is rolled back, read again and sent again (JetStream
// drops the copies of those it has by message id). So nothing is recorded as relayed before the
// broker has it, and each order's events stay in order: the broker stores a prefix of what was
// sent, and after a failure nothing more of the batch is sent until what was sent is known.
type pipelinedPublisher struct {
	next    Pipeliner
	metrics *metrics

	mu      sync.Mutex
	sent    []sentMessage // since the last flush
	suspect bool          // a send failed: earlier messages may be lost
	lost    bool          // an earlier message of the batch is lost
}

type sentMessage struct {
	topic      string
	occurredAt time.Time
	timed      bool
}

func (p *pipelinedPublisher) Publish(topic string, msgs ...*message.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lost {
		return errBatchLost
	}
	if p.suspect {
		// know the fate of what was sent before sending more
		if err := p.flushLocked(context.Background()); err != nil {
			p.lost = true
			return errors.Join(errBatchLost, err)
		}
		p.suspect = false
	}
	endTrace := traceRelay(topic, msgs)
	err := p.next.PublishAsync(topic, msgs...)
	endTrace(err)
	if err != nil {
		p.suspect = true
		p.metrics.failed.WithLabelValues(topic).Add(float64(len(msgs)))
		p.metrics.markFailure(err)
		return err
	}
	for _, msg := range msgs {
		at, ok := occurredAt(msg)
		p.sent = append(p.sent, sentMessage{topic: topic, occurredAt: at, timed: ok})
	}
	return nil
}

// Close does nothing: the broker publisher belongs to whoever gave it to the relay.
func (*pipelinedPublisher) Close() error { return nil }

// endBatch waits for everything sent from the batch and forgets the batch's state; it fails when
// the batch may not be recorded as relayed.
func (p *pipelinedPublisher) endBatch(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.flushLocked(ctx)
	if p.lost && err == nil {
		err = errBatchLost
	}
	p.suspect, p.lost = false, false
	return err
}

func (p *pipelinedPublisher) flushLocked(ctx context.Context) error {
	sent := p.sent
	p.sent = nil
	if err := p.next.Flush(ctx); err != nil {
		for _, m := range sent {
			p.metrics.failed.WithLabelValues(m.topic).Inc()
		}
		p.metrics.markFailure(err)
		return err
	}
	if len(sent) == 0 {
		return nil
	}
	now := time.Now()
	for _, m := range sent {
		p.metrics.published.WithLabelValues(m.topic).Inc()
		if m.timed {
			p.metrics.lag.Observe(now.Sub(m.occurredAt).Seconds())
		}
	}
	p.metrics.markProgress(now)
	return nil
}

// flushingBeginner begins the relay's read transactions; their Commit first ends the batch.
type flushingBeginner struct {
	wsql.Beginner
	publisher *pipelinedPublisher
	retry     time.Duration
}

func (b flushingBeginner) BeginTx(ctx context.Context, opts *sql.TxOptions) (wsql.Tx, error) {
	tx, err := b.Beginner.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return flushingTx{Tx: tx, b: b}, nil
}

type flushingTx struct {
	wsql.Tx
	b flushingBeginner
}

// Commit records the batch as relayed only once the broker has all of it; otherwise it rolls
// back, and the batch is read again after RetryInterval.
func (t flushingTx) Commit() error {
	if err := t.b.publisher.endBatch(context.Background()); err != nil {
		rollbackErr := t.Tx.Rollback()
		time.Sleep(t.b.retry)
		return errors.Join(err, rollbackErr)
	}
	return t.Tx.Commit()
}

// Rollback ends the batch, whatever became of it: it is read again.
func (t flushingTx) Rollback() error {
	_ = t.b.publisher.endBatch(context.Background())
	return t.Tx.Rollback()
}
