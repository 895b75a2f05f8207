package sandbox_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/sandbox"
	"github.com/wolfix/orders/internal/adapters/stripe"
	"github.com/wolfix/orders/internal/app/porttest"
	"github.com/wolfix/orders/internal/domain/payment"
	"github.com/wolfix/orders/internal/testenv"
)

const webhookSecret = "whsec_sandboxTestSecret0123456789"

// receiver is the service's webhook endpoint in miniature: it verifies each POST with the Stripe
// verifier, as the real one does, and answers with the statuses it is told to.
type receiver struct {
	verifier *stripe.Verifier
	statuses []int // answers to the first tries, then 200

	mu       sync.Mutex
	tries    int
	verified []payment.Event
	got      chan payment.Event
}

func newReceiver(t *testing.T, statuses ...int) (*receiver, *httptest.Server) {
	t.Helper()
	v, err := stripe.NewVerifier(webhookSecret)
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{verifier: v, statuses: statuses, got: make(chan payment.Event, 16)}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	ev, err := r.verifier.Verify(body, req.Header.Get(stripe.SignatureHeader))
	r.mu.Lock()
	try := r.tries
	r.tries++
	r.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if try < len(r.statuses) {
		w.WriteHeader(r.statuses[try])
		return
	}
	r.mu.Lock()
	r.verified = append(r.verified, ev)
	r.mu.Unlock()
	r.got <- ev
}

func (r *receiver) triesSoFar() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tries
}

func (r *receiver) await(t *testing.T) payment.Event {
	t.Helper()
	select {
	case ev := <-r.got:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no webhook arrived within 5s")
		return payment.Event{}
	}
}

func newDelivery(t *testing.T, cfg sandbox.DeliveryConfig) *sandbox.Delivery {
	t.Helper()
	if cfg.Secret == "" {
		cfg.Secret = webhookSecret
	}
	if cfg.InitialBackoff == 0 {
		cfg.InitialBackoff = time.Millisecond
	}
	d, err := sandbox.NewDelivery(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func TestDeliveryIsVerifiedByTheStripeVerifier(t *testing.T) {
	recv, srv := newReceiver(t)
	d := newDelivery(t, sandbox.DeliveryConfig{})
	d.SetTarget(srv.URL)
	gw := sandbox.New(sandbox.Config{Events: d})
	in := create(t, gw, porttest.NewRequest(t, 4599))
	confirm(t, gw, in, "4242 4242 4242 4242")
	ev := recv.await(t)
	if ev.Type != payment.EventIntentSucceeded || ev.IntentID != in.ID || !strings.HasPrefix(ev.ID, "evt_") ||
		ev.APIVersion != "2023-10-16" {
		t.Errorf("verified event = %+v; want payment_intent.succeeded of %s", ev, in.ID)
	}
}

func TestDeliveryWaitsForTheTarget(t *testing.T) {
	recv, srv := newReceiver(t)
	d := newDelivery(t, sandbox.DeliveryConfig{})
	gw := sandbox.New(sandbox.Config{Events: d})
	in := create(t, gw, porttest.NewRequest(t, 1000))
	confirm(t, gw, in, "4000000000000002")
	time.Sleep(20 * time.Millisecond)
	d.SetTarget(srv.URL)
	if ev := recv.await(t); ev.Type != payment.EventIntentPaymentFailed {
		t.Errorf("event = %s; want %s", ev.Type, payment.EventIntentPaymentFailed)
	}
}

func TestDeliveryRetriesFailures(t *testing.T) {
	recv, srv := newReceiver(t, http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusTooManyRequests)
	d := newDelivery(t, sandbox.DeliveryConfig{})
	d.SetTarget(srv.URL)
	gw := sandbox.New(sandbox.Config{Events: d})
	in := create(t, gw, porttest.NewRequest(t, 1000))
	confirm(t, gw, in, "4242424242424242")
	recv.await(t)
	if got := recv.triesSoFar(); got != 4 {
		t.Errorf("tries = %d; want 4 (three failures, then success)", got)
	}
}

func TestDeliveryGivesUpOnClientErrorsAndAfterMaxAttempts(t *testing.T) {
	tests := []struct {
		name      string
		statuses  []int
		wantTries int
	}{
		{"4xx is final", []int{http.StatusBadRequest, http.StatusBadRequest}, 1},
		{"bounded attempts", []int{500, 500, 500, 500, 500}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recv, srv := newReceiver(t, tt.statuses...)
			d := newDelivery(t, sandbox.DeliveryConfig{MaxAttempts: 3})
			d.SetTarget(srv.URL)
			d.Send(sandboxEvent(t))
			waitFor(t, func() bool { return recv.triesSoFar() >= tt.wantTries })
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			if got := recv.triesSoFar(); got != tt.wantTries {
				t.Errorf("tries = %d; want %d", got, tt.wantTries)
			}
		})
	}
}

func TestDeliveryRetriesWhenTheEndpointIsDown(t *testing.T) {
	recv, srv := newReceiver(t)
	d := newDelivery(t, sandbox.DeliveryConfig{MaxAttempts: 50})
	down := newHangingUpEndpoint(t)
	d.SetTarget(down.url)
	d.Send(sandboxEvent(t))
	waitFor(t, func() bool { return down.attempts.Load() >= 3 })
	d.SetTarget(srv.URL)
	recv.await(t)
	if got := recv.triesSoFar(); got != 1 {
		t.Errorf("tries at the live endpoint = %d; want 1 (the earlier ones went to the down endpoint)", got)
	}
}

// hangingUpEndpoint accepts connections and closes them at once, the way a crashed or restarting
// service looks from outside, counting how often delivery tried it.
type hangingUpEndpoint struct {
	url      string
	attempts atomic.Int64
}

func newHangingUpEndpoint(t *testing.T) *hangingUpEndpoint {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &hangingUpEndpoint{url: "http://" + ln.Addr().String() + "/webhooks/stripe"}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			e.attempts.Add(1)
			_ = conn.Close()
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	return e
}

func TestDeliveryQueueIsBounded(t *testing.T) {
	logs := &testenv.Buffer{}
	d := newDelivery(t, sandbox.DeliveryConfig{QueueSize: 2, DrainTimeout: 10 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	for range 5 { // no target: two events wait (queued or held by a worker); three are dropped
		d.Send(sandboxEvent(t))
	}
	waitFor(t, func() bool { return strings.Count(logs.String(), "queue full") >= 2 })
}

func TestCloseDrainsTheQueue(t *testing.T) {
	recv, srv := newReceiver(t)
	d := newDelivery(t, sandbox.DeliveryConfig{})
	for range 3 {
		d.Send(sandboxEvent(t))
	}
	d.SetTarget(srv.URL)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if got := recv.triesSoFar(); got != 3 {
		t.Errorf("delivered %d events before Close returned; want 3", got)
	}
	d.Send(sandboxEvent(t)) // after Close: dropped, no panic
}

func TestCloseGivesUpAfterDrainTimeout(t *testing.T) {
	d := newDelivery(t, sandbox.DeliveryConfig{DrainTimeout: 50 * time.Millisecond})
	d.Send(sandboxEvent(t)) // no target ever: the event can only be abandoned
	start := time.Now()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Close took %v; want about the 50ms drain timeout", took)
	}
}

func TestNewDeliveryNeedsASecret(t *testing.T) {
	if _, err := sandbox.NewDelivery(sandbox.DeliveryConfig{}); !errors.Is(err, sandbox.ErrNoSecret) {
		t.Errorf("error = %v; want %v", err, sandbox.ErrNoSecret)
	}
}

// sandboxEvent returns a real event from a sandbox cancel.
func sandboxEvent(t *testing.T) sandbox.Event {
	t.Helper()
	events := &recorder{}
	gw := sandbox.New(sandbox.Config{Events: events})
	in := create(t, gw, porttest.NewRequest(t, 1000))
	if _, err := gw.CancelIntent(context.Background(), in.ID); err != nil {
		t.Fatal(err)
	}
	return events.last(t)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// testenv.Buffer collects log output; the logger and the test may use it at once.
