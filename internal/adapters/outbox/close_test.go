package outbox_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/outbox"
	"github.com/wolfix/orders/internal/testenv"
)

// An API replica with its relay off builds a relay but never runs it; closing it must not wait
// for the forwarder's handlers (which never started) for the router's whole close timeout.
func TestRelayThatNeverRanClosesAtOnce(t *testing.T) {
	for name, be := range map[string]backend{"sqlite": sqliteGoChannel, "postgres": postgresWith(openNATS)} {
		t.Run(name, func(t *testing.T) {
			db := be.openDB(t)
			b, _ := be.openBroker(t)
			r, err := outbox.NewRelay(db, be.dialect, b.Publisher(), testLogger(), outbox.RelayConfig{})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if err := r.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("closing a relay that never ran took %s; want under 1s", took)
			}
			if err := r.Run(context.Background()); err != nil {
				t.Errorf("Run after Close: %v; want nil at once", err)
			}
		})
	}
}

// A relay stopped while it relays a backlog (SIGTERM on `wolfix relay`) says nothing at error
// level on the way out: its reader stops first, and the forwarder's router must not take the
// end of its only handler for an accident. Each backend is stopped many times, since the router
// notices its handler gone at a moment that races with the relay's own Close.
func TestRelayStoppedMidBacklogLogsNoError(t *testing.T) {
	const stops = 25
	for name, be := range map[string]backend{"sqlite": sqliteGoChannel, "postgres": postgresWith(openNATS)} {
		t.Run(name, func(t *testing.T) {
			db := be.openDB(t)
			b, _ := be.openBroker(t)
			commitEach(t, db, opener(t, be.dialect), orderEvents("stop", 200, 5))
			for i := range stops {
				logs := &testenv.Buffer{}
				logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
				_, stop := runRelayWith(t, db, be.dialect, b.Publisher(), outbox.RelayConfig{BatchSize: 20}, logger)
				time.Sleep(time.Duration(i%5) * time.Millisecond)
				stop()
				for _, line := range strings.Split(logs.String(), "\n") {
					if strings.Contains(line, "level=ERROR") {
						t.Fatalf("stop %d: the relay logged an error on the way out: %s", i+1, line)
					}
				}
			}
		})
	}
}
