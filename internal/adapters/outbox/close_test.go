package outbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/outbox"
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
