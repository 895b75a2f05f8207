package nats

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	wnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
)

// natsMaxInFlight bounds the messages sent to JetStream and not acknowledged yet; PublishAsync
// waits while it is reached.
const natsMaxInFlight = 1024

// natsAckTimeout bounds the wait for JetStream's acks (nats.go fails the pending ones itself when
// the connection drops; this covers a reply lost otherwise).
const natsAckTimeout = 10 * time.Second

// natsPublisher publishes topic t on the subject <prefix>.t, with the message UUID as the
// JetStream message id (JetStream stores a message once within natsDuplicateWindow) and headers
// as watermill's NATS marshaler writes them, so watermill's NATS subscriber reads them back.
//
// Publish waits for JetStream's ack of each message. PublishAsync only sends, and Flush waits
// for the acks of everything PublishAsync sent since the last Flush: the outbox relay sends a
// whole batch that way and records the batch as relayed only when Flush succeeded.
type natsPublisher struct {
	js        nats.JetStreamContext
	conn      *nats.Conn
	prefix    string
	marshaler wnats.NATSMarshaler

	mu      sync.Mutex
	pending []pendingAck
}

type pendingAck struct {
	uuid   string
	future nats.PubAckFuture
}

func newNATSPublisher(conn *nats.Conn, prefix string) (*natsPublisher, error) {
	js, err := conn.JetStream(nats.PublishAsyncMaxPending(natsMaxInFlight))
	if err != nil {
		return nil, fmt.Errorf("broker: NATS publisher: %w", err)
	}
	return &natsPublisher{js: js, conn: conn, prefix: prefix}, nil
}

// Publish publishes msgs and returns once JetStream has stored each of them.
func (p *natsPublisher) Publish(topic string, msgs ...*message.Message) error {
	acks, err := p.send(topic, msgs)
	if err != nil {
		return err
	}
	return waitAcks(context.Background(), acks)
}

// PublishAsync sends msgs without waiting for JetStream; Flush reports whether they were stored.
// A message whose sending fails (not connected, too many in flight for too long) fails here.
func (p *natsPublisher) PublishAsync(topic string, msgs ...*message.Message) error {
	acks, err := p.send(topic, msgs)
	p.mu.Lock()
	p.pending = append(p.pending, acks...)
	p.mu.Unlock()
	return err
}

// Flush waits for JetStream's answer to every message PublishAsync sent since the last Flush,
// and fails when any of them was not stored.
func (p *natsPublisher) Flush(ctx context.Context) error {
	p.mu.Lock()
	acks := p.pending
	p.pending = nil
	p.mu.Unlock()
	return waitAcks(ctx, acks)
}

func (p *natsPublisher) send(topic string, msgs []*message.Message) ([]pendingAck, error) {
	acks := make([]pendingAck, 0, len(msgs))
	for _, msg := range msgs {
		m, err := p.marshaler.Marshal(p.prefix+"."+topic, msg)
		if err != nil {
			return acks, fmt.Errorf("broker: marshal message %s: %w", msg.UUID, err)
		}
		m.Header.Set(nats.MsgIdHdr, msg.UUID)
		future, err := p.js.PublishMsgAsync(m)
		if err != nil {
			return acks, fmt.Errorf("broker: publish message %s to %s: %w", msg.UUID, m.Subject, err)
		}
		acks = append(acks, pendingAck{uuid: msg.UUID, future: future})
	}
	return acks, nil
}

// waitAcks waits for every ack and returns the errors of the messages not stored.
func waitAcks(ctx context.Context, acks []pendingAck) error {
	ctx, cancel := context.WithTimeout(ctx, natsAckTimeout)
	defer cancel()
	var errs []error
	for _, a := range acks {
		select {
		case <-a.future.Ok():
		case err := <-a.future.Err():
			errs = append(errs, fmt.Errorf("broker: message %s not stored by JetStream: %w", a.uuid, err))
		case <-ctx.Done():
			return errors.Join(append(errs, ctx.Err())...)
		}
	}
	return errors.Join(errs...)
}

// Close waits (up to the JetStream timeout) for the messages in flight and closes the connection.
func (p *natsPublisher) Close() error {
	select {
	case <-p.js.PublishAsyncComplete():
	case <-time.After(natsAckTimeout):
	}
	p.conn.Close()
	return nil
}
