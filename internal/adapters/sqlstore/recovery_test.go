package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/memory"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// Crash recovery through the real store on both dialects (DESIGN §8, invariants 6 and 9): the
// app's use cases run over the database, a crash is simulated by abandoning a request between
// two of its steps and moving the clock past its lease, and retries must neither lose nor repeat
// what committed.

const recoveryLease = 5 * time.Second

func TestIdempotencyKeyAcrossCrashes_SQLiteAndPostgres(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		t.Run("a claim abandoned mid-request is taken over: one order, one intent", func(t *testing.T) {
			r := newRecoveryRig(t, tdb, tdb.store)
			pid := r.product()
			first := r.claim("k-abandoned")
			r.gateway.loseNextAnswer() // the provider creates the intent; the process dies before the answer
			if _, err := r.place(first, pid); err == nil {
				t.Fatal("the first run survived its crash")
			}
			r.clock.Advance(time.Second)
			if rec := r.claimRecord("k-abandoned"); rec.Claimed || rec.Done {
				t.Fatalf("a retry within the lease = %+v; want the live claim (409)", rec)
			}
			r.clock.Advance(recoveryLease)
			second := r.claim("k-abandoned")
			placed, err := r.place(second, pid)
			if err != nil {
				t.Fatalf("the run that took over: %v", err)
			}
			r.wantOrders(pid, 1)
			if n := r.gateway.intents(); n != 1 {
				t.Errorf("%d intents at the provider; want 1 (the takeover reuses the first run's)", n)
			}
			kept, ok := second.Kept()
			if !ok || !strings.Contains(string(kept.Body), placed.Order.ID()) {
				t.Fatalf("kept answer = %s, %v; want the order's", kept.Body, ok)
			}
			if rec := r.claimRecord("k-abandoned"); !rec.Done || string(rec.Answer.Body) != string(kept.Body) {
				t.Errorf("a later retry = %+v; want the kept answer %s", rec, kept.Body)
			}
		})

		t.Run("a request whose transaction committed is replayed, not run again", func(t *testing.T) {
			r := newRecoveryRig(t, tdb, tdb.store)
			pid := r.product()
			first := r.claim("k-committed")
			if _, err := r.place(first, pid); err != nil {
				t.Fatal(err)
			}
			kept, _ := first.Kept() // the process dies before the client hears the 201
			r.clock.Advance(recoveryLease + time.Second)
			rec := r.claimRecord("k-committed")
			if rec.Claimed || !rec.Done || rec.Answer.Status != 201 || string(rec.Answer.Body) != string(kept.Body) {
				t.Fatalf("the retry = %+v; want the answer kept with the order, %s", rec, kept.Body)
			}
			r.wantOrders(pid, 1)
		})

		t.Run("an original that resumes after a takeover commits nothing", func(t *testing.T) {
			r := newRecoveryRig(t, tdb, tdb.store)
			pid := r.product()
			first := r.claim("k-race-late")
			resume := r.gateway.pauseNextCreate()
			failed := make(chan error, 1)
			go func() {
				_, err := r.place(first, pid)
				failed <- err
			}()
			<-r.gateway.paused // the original waits on a slow provider past its lease
			r.clock.Advance(recoveryLease + time.Second)
			second := r.claim("k-race-late")
			if _, err := r.place(second, pid); err != nil {
				t.Fatalf("the run that took over: %v", err)
			}
			close(resume)
			if err := <-failed; !errors.Is(err, app.ErrIdempotencyClaimLost) {
				t.Fatalf("the original after the takeover: %v; want ErrIdempotencyClaimLost", err)
			}
			r.wantOrders(pid, 1)
			if n, cancelled := r.gateway.intents(), r.gateway.cancelled(); n != 1 || cancelled != 0 {
				t.Errorf("%d intents, %d cancelled; want the one intent, still open for the order that took over", n, cancelled)
			}
		})

		t.Run("a takeover while the original commits waits for it and replays", func(t *testing.T) {
			entered, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			slowCommit := NewStore(tdb.db, tdb.dialect, func(ctx context.Context, tx *sql.Tx) (app.Outbox, error) {
				once.Do(func() { close(entered); <-release }) // the original sits inside its transaction
				return tdb.outbox.open(ctx, tx)
			})
			original := newRecoveryRig(t, tdb, slowCommit)
			pid := original.product()
			first := original.claim("k-race-commit")
			committed := make(chan error, 1)
			go func() {
				_, err := original.place(first, pid)
				committed <- err
			}()
			<-entered
			original.clock.Advance(recoveryLease + time.Second)
			retried := make(chan app.IdempotencyRecord, 1)
			go func() { retried <- original.claimRecord("k-race-commit") }()
			time.Sleep(200 * time.Millisecond) // the retry reaches the held claim (or SQLite's write lock)
			close(release)
			if err := <-committed; err != nil {
				t.Fatalf("the original: %v", err)
			}
			kept, _ := first.Kept()
			if rec := <-retried; rec.Claimed || !rec.Done || string(rec.Answer.Body) != string(kept.Body) {
				t.Fatalf("the retry = %+v; want the original's answer %s", rec, kept.Body)
			}
			original.wantOrders(pid, 1)
		})
	})
}

func TestInboxLeftUnprocessedIsSweptOnce_SQLiteAndPostgres(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		r := newRecoveryRig(t, tdb, tdb.store)
		pid := r.product()
		const n = 12
		var orders []*order.Order
		for i := range n {
			placed, err := r.app.PlaceOrder.Handle(ctx, r.checkout(pid))
			if err != nil {
				t.Fatalf("order %d: %v", i, err)
			}
			orders = append(orders, placed.Order)
			intentID := placed.Order.Payment().IntentID()
			r.gateway.succeed(intentID)
			// Received and recorded, then the process died before processing it.
			payload := fmt.Sprintf("evt_%02d %s %s", i, payment.EventIntentSucceeded, intentID)
			if _, err := tdb.store.Webhooks().Record(ctx, app.InboxEntry{Event: r.verifier.event(payload), ReceivedAt: r.clock.Now()}); err != nil {
				t.Fatal(err)
			}
		}

		// Two replicas start and sweep at the same time.
		replica := newRecoveryRig(t, tdb, tdb.store)
		replica.gateway, replica.clock = r.gateway, r.clock
		replica.app = replica.build(tdb.store)
		var swept [2]int
		errs := parallel(2, func(i int) error {
			var err error
			swept[i], err = []*app.Application{r.app, replica.app}[i].Webhooks.Sweep(ctx)
			return err
		})
		assertNoErrors(t, errs)
		if swept[0]+swept[1] != n {
			t.Errorf("the sweeps leased %d + %d events; want %d in all, each once", swept[0], swept[1], n)
		}
		for _, o := range orders {
			got, err := tdb.store.Orders().Get(ctx, o.ID())
			if err != nil {
				t.Fatal(err)
			}
			succeeded := 0
			for _, e := range got.Timeline() {
				if e.Type == "payment.succeeded" {
					succeeded++
				}
			}
			if !got.Payment().IsPaid() || succeeded != 1 {
				t.Errorf("order %s: paid %v with %d payment.succeeded; want paid once", o.ID(), got.Payment().IsPaid(), succeeded)
			}
			if reads := r.gateway.reads(o.Payment().IntentID()); reads != 1 {
				t.Errorf("intent of %s read %d times; want once (one worker per event)", o.ID(), reads)
			}
		}
		pending, _, err := tdb.store.Webhooks().List(ctx, app.InboxQuery{Status: app.InboxPending, Limit: 100})
		if err != nil || len(pending) != 0 {
			t.Errorf("pending after the sweeps: %d, %v; want none", len(pending), err)
		}
	})
}

// recoveryRig is the application over one store with a scripted provider and a clock the test
// moves; each rig has its own customer, so its orders are counted apart.
type recoveryRig struct {
	t        *testing.T
	tdb      *testDB
	app      *app.Application
	gateway  *scriptedGateway
	verifier lineVerifier
	clock    *memory.Clock
	customer string
}

var rigs sync.Map // test name → rigs made, for distinct customers

func newRecoveryRig(t *testing.T, tdb *testDB, store app.Store) *recoveryRig {
	t.Helper()
	n, _ := rigs.LoadOrStore(t.Name(), new(int))
	*n.(*int)++
	r := &recoveryRig{t: t, tdb: tdb, gateway: newScriptedGateway(), clock: memory.NewClock(t0),
		customer: fmt.Sprintf("customer-%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), *n.(*int))}
	r.app = r.build(store)
	return r
}

func (r *recoveryRig) build(store app.Store) *app.Application {
	return app.New(app.Dependencies{Store: store, Providers: oneProvider(r.t, r.gateway, r.verifier), Clock: r.clock,
		Pricing:    app.Pricing{Currency: money.USD, Fees: map[order.DeliveryMethod]money.Money{order.DeliveryCourier: usd(700)}},
		Reconciler: app.ReconcilerConfig{After: time.Minute, TTL: time.Hour},
		Log:        slog.New(slog.NewTextHandler(io.Discard, nil))})
}

func (r *recoveryRig) product() string {
	r.t.Helper()
	return addProduct(r.t, r.tdb, app.NewID(), 100).ID()
}

func (r *recoveryRig) checkout(productID string) app.PlaceOrder {
	return app.PlaceOrder{Actor: app.Actor{UserID: r.customer, Roles: []app.Role{app.RoleCustomer}},
		Lines:     []app.LineRequest{{ProductID: productID, Quantity: 1}},
		Recipient: order.Recipient{FirstName: "Olena", LastName: "Koval", PhoneNumber: "+380501234567", Email: "olena@example.com"},
		Delivery:  order.Delivery{Method: order.DeliveryCourier, City: "Kyiv", Street: "Khreshchatyk", HouseNumber: "22"},
		Method:    payment.MethodCard}
}

// claimRecord claims key for the rig's checkout request, as the HTTP middleware does.
func (r *recoveryRig) claimRecord(key string) app.IdempotencyRecord {
	r.t.Helper()
	now := r.clock.Now()
	rec, err := r.tdb.store.Idempotency().Claim(context.Background(), app.IdempotencyRequest{
		Scope: r.customer + " POST /api/orders/with-payment", Key: key, RequestHash: "body-hash",
		Now: now, Lease: recoveryLease, ExpiresAt: now.Add(24 * time.Hour)})
	if err != nil {
		r.t.Fatalf("claim %s: %v", key, err)
	}
	return rec
}

// claim claims key and returns the claim a request carries, answering with the order id and the
// client secret.
func (r *recoveryRig) claim(key string) *app.IdempotencyClaim {
	r.t.Helper()
	rec := r.claimRecord(key)
	if !rec.Claimed {
		r.t.Fatalf("claim %s: %+v; want claimed", key, rec)
	}
	c := &app.IdempotencyClaim{Scope: r.customer + " POST /api/orders/with-payment", Key: key, Token: rec.Token,
		ClaimedAt: rec.ClaimedAt}
	c.RenderWith(func(result any) (app.Answer, bool, error) {
		placed, ok := result.(app.PlacedOrder)
		if !ok {
			return app.Answer{}, false, nil
		}
		body, err := json.Marshal(map[string]string{"orderId": placed.Order.ID(), "clientSecret": placed.ClientSecret})
		return app.Answer{Status: 201, Body: body}, err == nil, err
	})
	return c
}

func (r *recoveryRig) place(c *app.IdempotencyClaim, productID string) (app.PlacedOrder, error) {
	return r.app.PlaceOrder.Handle(app.WithIdempotencyClaim(context.Background(), c), r.checkout(productID))
}

// wantOrders checks that the rig's customer has n orders and productID gave n units.
func (r *recoveryRig) wantOrders(productID string, n int) {
	r.t.Helper()
	ctx := context.Background()
	orders, _, err := r.tdb.store.Orders().List(ctx, app.OrderQuery{CustomerID: r.customer, Limit: 100})
	if err != nil {
		r.t.Fatal(err)
	}
	p, err := r.tdb.store.Products().Get(ctx, productID)
	if err != nil {
		r.t.Fatal(err)
	}
	if len(orders) != n || p.Stock() != int64(100-n) {
		r.t.Errorf("%d orders, stock %d; want %d orders, stock %d", len(orders), p.Stock(), n, 100-n)
	}
}

// scriptedGateway keeps intents by payment id, as Stripe's idempotency keys do, and counts what
// was asked of it. It can lose the answer to the next create (the intent exists, the caller gets
// an error) or hold the next create until the test lets it go.
type scriptedGateway struct {
	mu        sync.Mutex
	byPayment map[string]payment.Intent
	readCount map[string]int
	cancels   int
	lose      bool
	hold      chan struct{}
	paused    chan struct{}
}

func newScriptedGateway() *scriptedGateway {
	return &scriptedGateway{byPayment: map[string]payment.Intent{}, readCount: map[string]int{}}
}

func (g *scriptedGateway) Provider() string { return "scripted" }

func (g *scriptedGateway) CreateIntent(_ context.Context, req app.IntentRequest) (payment.Intent, error) {
	g.mu.Lock()
	in, ok := g.byPayment[req.PaymentID]
	if !ok {
		id := "pi_" + req.PaymentID
		in = payment.Intent{ID: id, ClientSecret: id + "_secret", Amount: req.Amount.Minor(),
			Currency: req.Amount.Currency().Code(), Status: payment.IntentRequiresPaymentMethod, OrderID: req.OrderID}
		g.byPayment[req.PaymentID] = in
	}
	lose, hold := g.lose, g.hold
	g.lose, g.hold = false, nil
	g.mu.Unlock()
	if hold != nil {
		close(g.paused)
		<-hold
	}
	if lose {
		return payment.Intent{}, app.ErrProviderUnavailable
	}
	return in, nil
}

func (g *scriptedGateway) GetIntent(_ context.Context, id string) (payment.Intent, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.readCount[id]++
	for _, in := range g.byPayment {
		if in.ID == id {
			return in, nil
		}
	}
	return payment.Intent{}, app.ErrIntentNotFound
}

func (g *scriptedGateway) CancelIntent(_ context.Context, id string) (payment.Intent, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.cancels++
	return g.setStatus(id, payment.IntentCanceled), nil
}

func (g *scriptedGateway) Refund(context.Context, app.RefundRequest) (app.RefundResult, error) {
	return app.RefundResult{}, app.ErrProviderRejected
}

func (g *scriptedGateway) setStatus(id string, s payment.IntentStatus) payment.Intent {
	for pid, in := range g.byPayment {
		if in.ID == id {
			in.Status = s
			g.byPayment[pid] = in
			return in
		}
	}
	return payment.Intent{}
}

func (g *scriptedGateway) succeed(id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.setStatus(id, payment.IntentSucceeded)
}

func (g *scriptedGateway) loseNextAnswer() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.lose = true
}

// pauseNextCreate holds the next create (after the provider made the intent) until the returned
// channel is closed; g.paused is closed when it starts waiting.
func (g *scriptedGateway) pauseNextCreate() chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.hold, g.paused = make(chan struct{}), make(chan struct{})
	return g.hold
}

func (g *scriptedGateway) intents() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.byPayment)
}

func (g *scriptedGateway) cancelled() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.cancels
}

func (g *scriptedGateway) reads(id string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.readCount[id]
}

// lineVerifier reads payloads "<event id> <type> <intent id>"; every signature is good.
type lineVerifier struct{}

func (v lineVerifier) VerifyDelivery(payload []byte, _ app.WebhookHeaders) ([]payment.Event, error) {
	ev, err := v.Decode(payload)
	return []payment.Event{ev}, err
}

// oneProvider enables gateway alone, with verifier for its webhooks.
func oneProvider(t testing.TB, gateway app.PaymentGateway, verifier app.WebhookVerifier) *app.Providers {
	t.Helper()
	providers, err := app.NewProviders(app.PaymentProvider{Gateway: gateway, Verifier: verifier})
	if err != nil {
		t.Fatal(err)
	}
	return providers
}

func (lineVerifier) Decode(payload []byte) (payment.Event, error) {
	f := strings.Fields(string(payload))
	if len(f) != 3 {
		return payment.Event{}, app.ErrWebhookPayload
	}
	return payment.Event{ID: f[0], Type: payment.EventType(f[1]), IntentID: f[2], Payload: payload}, nil
}

func (v lineVerifier) event(payload string) payment.Event {
	ev, _ := v.Decode([]byte(payload))
	return ev
}
