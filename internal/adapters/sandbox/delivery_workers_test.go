package sandbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/sandbox"
	"github.com/wolfix/orders/internal/adapters/stripe"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/app/porttest"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/payment"
	"github.com/wolfix/orders/internal/testenv"
)

// tee is an EventSink that records the order events were emitted in, then passes them on.
type tee struct {
	next sandbox.EventSink

	mu     sync.Mutex
	events []sandbox.Event
}

func (t *tee) Send(ev sandbox.Event) {
	t.mu.Lock()
	t.events = append(t.events, ev)
	t.mu.Unlock()
	t.next.Send(ev)
}

func (t *tee) emitted() []sandbox.Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]sandbox.Event(nil), t.events...)
}

// slowReceiver verifies each POST, takes a few milliseconds over it, and fails the first try of
// every event whose id it is told to, so that retries happen while other events wait.
type slowReceiver struct {
	verifier *stripe.Verifier
	fail     func(ev payment.Event) bool
	hold     func(ev payment.Event) // runs before the answer; may block

	mu       sync.Mutex
	tried    map[string]bool
	verified []payment.Event
	got      chan payment.Event
}

func newSlowReceiver(t *testing.T, r *slowReceiver) *httptest.Server {
	t.Helper()
	v, err := stripe.NewVerifier(webhookSecret)
	if err != nil {
		t.Fatal(err)
	}
	r.verifier, r.tried, r.got = v, map[string]bool{}, make(chan payment.Event, 256)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

func (r *slowReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	ev, err := r.verifier.Verify(body, req.Header.Get(stripe.SignatureHeader))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.hold != nil {
		r.hold(ev)
	}
	time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
	r.mu.Lock()
	first := !r.tried[ev.ID]
	r.tried[ev.ID] = true
	if first && r.fail != nil && r.fail(ev) {
		r.mu.Unlock()
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	r.verified = append(r.verified, ev)
	r.mu.Unlock()
	r.got <- ev
}

func (r *slowReceiver) delivered() []payment.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]payment.Event(nil), r.verified...)
}

func TestDeliveryKeepsTheOrderOfEachIntentAcrossWorkers(t *testing.T) {
	recv := &slowReceiver{fail: func(ev payment.Event) bool { return ev.Type == payment.EventIntentSucceeded }}
	srv := newSlowReceiver(t, recv)
	d := newDelivery(t, sandbox.DeliveryConfig{Workers: 4})
	d.SetTarget(srv.URL)
	sink := &tee{next: d}
	gw := sandbox.New(sandbox.Config{Events: sink})

	const intents = 12
	var wg sync.WaitGroup
	for range intents { // each: payment_failed, succeeded (first try refused), refunded, refunded
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := create(t, gw, porttest.NewRequest(t, 1000))
			if _, err := gw.Confirm(context.Background(), in.ID, in.ClientSecret, "4000000000000002"); err != nil {
				t.Error(err)
			}
			confirm(t, gw, in, "4242424242424242")
			for i, minor := range []int64{400, 600} {
				amount, err := money.New(minor, money.USD)
				if err != nil {
					t.Error(err)
					return
				}
				req := app.RefundRequest{RefundID: fmt.Sprintf("%s-refund-%d", in.ID, i), IntentID: in.ID, Amount: amount}
				if _, err := gw.Refund(context.Background(), req); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	emitted := sink.emitted()
	if len(emitted) != 4*intents {
		t.Fatalf("%d events emitted; want %d", len(emitted), 4*intents)
	}
	waitFor(t, func() bool { return len(recv.delivered()) == len(emitted) })

	want := map[string][]string{} // intent → event ids in emission order
	byID := map[string]sandbox.Event{}
	for _, ev := range emitted {
		want[ev.IntentID] = append(want[ev.IntentID], ev.ID)
		byID[ev.ID] = ev
	}
	got := map[string][]string{}
	for _, ev := range recv.delivered() {
		if sent := byID[ev.ID]; sent.IntentID != ev.IntentID || sent.IntentID == "" {
			t.Errorf("event %s: Event.IntentID = %q; the body says %q", ev.ID, sent.IntentID, ev.IntentID)
		}
		got[ev.IntentID] = append(got[ev.IntentID], ev.ID)
	}
	if len(want) != intents {
		t.Fatalf("events of %d intents; want %d", len(want), intents)
	}
	for id, ids := range want {
		if strings.Join(got[id], ",") != strings.Join(ids, ",") {
			t.Errorf("intent %s: delivered %v; emitted %v", id, got[id], ids)
		}
	}
}

// onWorkers returns two intents whose events go to different workers.
func onWorkers(t *testing.T, gw *sandbox.Gateway, workers int) (a, b string) {
	t.Helper()
	a = create(t, gw, porttest.NewRequest(t, 1000)).ID
	for range 100 {
		b = create(t, gw, porttest.NewRequest(t, 1000)).ID
		if sandbox.Shard(a, workers) != sandbox.Shard(b, workers) {
			return a, b
		}
	}
	t.Fatal("no two intents on different workers")
	return "", ""
}

func TestDeliveryDeliversOtherIntentsWhileOneIsStuck(t *testing.T) {
	release := make(chan struct{})
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	var stuckID string
	recv := &slowReceiver{hold: func(ev payment.Event) {
		if ev.IntentID == stuckID {
			select {
			case <-release:
			case <-time.After(10 * time.Second):
			}
		}
	}}
	srv := newSlowReceiver(t, recv)
	d := newDelivery(t, sandbox.DeliveryConfig{Workers: 4})
	t.Cleanup(unblock) // runs before the Delivery and the server close
	d.SetTarget(srv.URL)
	gw := sandbox.New(sandbox.Config{Events: d})
	a, b := onWorkers(t, gw, 4)
	stuckID = a

	for _, id := range []string{a, b} {
		if _, err := gw.CancelIntent(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case ev := <-recv.got:
		if ev.IntentID != b {
			t.Fatalf("first delivered event is of %s; want %s (%s is held)", ev.IntentID, b, a)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("intent B's event waited for intent A's")
	}
	unblock()
	if ev := <-recv.got; ev.IntentID != a {
		t.Errorf("event of %s; want %s", ev.IntentID, a)
	}
}

func TestDeliveryQueueBoundIsTotalAcrossWorkers(t *testing.T) {
	logs := &testenv.Buffer{}
	d := newDelivery(t, sandbox.DeliveryConfig{QueueSize: 3, Workers: 4, DrainTimeout: 10 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	for range 10 { // no target: three events wait, whichever workers they went to; Send drops seven
		d.Send(sandboxEvent(t))
	}
	if got := strings.Count(logs.String(), "queue full"); got != 7 {
		t.Errorf("%d events dropped; want 7", got)
	}
}

func TestCloseDrainsEveryWorker(t *testing.T) {
	recv := &slowReceiver{}
	srv := newSlowReceiver(t, recv)
	d := newDelivery(t, sandbox.DeliveryConfig{Workers: 4})
	const n = 24
	for range n {
		d.Send(sandboxEvent(t))
	}
	d.SetTarget(srv.URL)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if got := len(recv.delivered()); got != n {
		t.Errorf("delivered %d events before Close returned; want %d", got, n)
	}
}

func TestEventCarriesItsIntent(t *testing.T) {
	events := &recorder{}
	gw := sandbox.New(sandbox.Config{Events: events})
	in := create(t, gw, porttest.NewRequest(t, 1000))
	confirm(t, gw, in, "4242424242424242")
	refund(t, gw, in.ID)
	for _, ev := range events.events {
		var body struct {
			Data struct {
				Object struct {
					ID            string `json:"id"`
					PaymentIntent string `json:"payment_intent"`
				} `json:"object"`
			} `json:"data"`
		}
		if err := json.Unmarshal(ev.Body, &body); err != nil {
			t.Fatal(err)
		}
		want := body.Data.Object.ID
		if ev.Type == payment.EventChargeRefunded {
			want = body.Data.Object.PaymentIntent
		}
		if ev.IntentID != in.ID || want != in.ID {
			t.Errorf("%s: IntentID = %q, body names %q; want %q", ev.Type, ev.IntentID, want, in.ID)
		}
	}
}
