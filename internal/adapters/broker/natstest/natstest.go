// Package natstest owns the NATS JetStream broker set-up tests use: a stream and subjects of the
// test's own, deleted when the test ends.
package natstest

import (
	"strings"
	"testing"

	natsgo "github.com/nats-io/nats.go"

	"github.com/wolfix/orders/internal/adapters/broker/brokertest"
	"github.com/wolfix/orders/internal/adapters/broker/nats"
	"github.com/wolfix/orders/internal/testenv"
)

// Open opens a broker on a JetStream stream and subjects of the test's own, named after prefix (a
// word: no dots or spaces). When the test ends the broker is closed, then the stream is deleted,
// and its consumers with it.
func Open(t testing.TB, prefix string) *nats.Broker {
	t.Helper()
	url := testenv.NATSURL(t)
	name := brokertest.UniqueName(prefix)
	cfg := nats.Config{URL: url, Stream: strings.ToUpper(name), SubjectPrefix: name}
	t.Cleanup(func() { deleteStream(t, url, cfg.Stream) }) // registered first: runs after Close
	brk, err := nats.New(cfg, brokertest.Logger())
	return brokertest.Opened(t, brk, err)
}

func deleteStream(t testing.TB, url, stream string) {
	conn, err := natsgo.Connect(url)
	if err != nil {
		t.Logf("cleanup: %v", err)
		return
	}
	defer conn.Close()
	js, err := conn.JetStream()
	if err == nil {
		err = js.DeleteStream(stream)
	}
	if err != nil {
		t.Errorf("cleanup: delete stream %s: %v", stream, err)
	}
}
