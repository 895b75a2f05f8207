package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/testenv"
)

// Customers who hang up mid-checkout end its request's context between the statements of its
// transaction. None of those transactions may stay open on Postgres: one left open keeps its
// locks, and holds back the snapshot horizon up to which the outbox relay reads, so the events of
// every order committed after it would wait until its connection happened to be reused (found by
// `make bench-compare`: a load's last events were never relayed).
func TestE2ECustomersHangingUpMidCheckoutLeaveNoTransactionOpen(t *testing.T) {
	const rounds, customers, load = 30, 32, 500 * time.Millisecond
	pg := testenv.PostgresURL(t)
	s := startService(t, append(volumeEnv, "WOLFIX_DATABASE_URL="+pg)...)
	body, err := json.Marshal(orderBody(s.newProduct(500, 1_000_000).id, 1))
	if err != nil {
		t.Fatal(err)
	}
	db := openOutboxDB(t, pg)
	customer := s.token("hangs-up", "customer")
	hungUp := 0
	for range rounds {
		hungUp += shopThenHangUp(s, customer, body, customers, load)
		waitUntil(t, 3*time.Second, "no session idle inside a transaction once the customers hung up",
			func() bool { return countRows(t, db, testenv.PostgresIdleInTransaction) == 0 })
	}
	if hungUp == 0 {
		t.Fatal("no customer hung up before its answer: the test exercised nothing")
	}
	series := awaitSeries(t, s, func(series map[string]float64) bool {
		backlog, ok := series["wolfix_outbox_backlog"]
		return ok && backlog == 0
	})
	if backlog, ok := series["wolfix_outbox_backlog"]; !ok || backlog != 0 {
		t.Fatalf("the outbox still holds %v events not relayed (exported: %v)", backlog, ok)
	}
}

// shopThenHangUp has customers place cash orders one after the other for the length of load, all
// at once, keeping the service busy, then hang up together on the checkouts they are waiting for,
// and returns how many hung up.
func shopThenHangUp(s *service, token string, body []byte, customers int, load time.Duration) int {
	ctx, cancel := context.WithTimeout(context.Background(), load)
	defer cancel()
	var hungUp atomic.Int32
	var wg sync.WaitGroup
	for range customers {
		wg.Go(func() {
			for ctx.Err() == nil {
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/api/orders", bytes.NewReader(body))
				if err != nil {
					s.t.Error(err)
					return
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := s.client.Do(req)
				if err != nil {
					hungUp.Add(1)
					return
				}
				_ = resp.Body.Close()
			}
		})
	}
	wg.Wait()
	return int(hungUp.Load())
}
