package app

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wolfix/orders/internal/domain/catalog"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// memStore is an in-memory Store for the app layer's unit tests: one mutex serializes
// transactions, and a failed transaction restores the state it started from.
type memStore struct {
	mu       sync.Mutex
	state    memState
	failNext error // returned by the next InTx instead of committing
}

type memState struct {
	products map[string]catalog.Product
	orders   map[string]order.Snapshot
	inbox    map[string]InboxEntry
	events   []Event
}

func newMemStore() *memStore {
	return &memStore{state: memState{products: map[string]catalog.Product{},
		orders: map[string]order.Snapshot{}, inbox: map[string]InboxEntry{}}}
}

func (s memState) clone() memState {
	c := memState{products: map[string]catalog.Product{}, orders: map[string]order.Snapshot{},
		inbox: map[string]InboxEntry{}, events: append([]Event(nil), s.events...)}
	for k, v := range s.products {
		c.products[k] = v
	}
	for k, v := range s.orders {
		c.orders[k] = v
	}
	for k, v := range s.inbox {
		c.inbox[k] = v
	}
	return c
}

func (s *memStore) InTx(ctx context.Context, fn func(ctx context.Context, tx StoreTx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	saved := s.state.clone()
	err := fn(ctx, memTx{s})
	if err == nil && s.failNext != nil {
		err, s.failNext = s.failNext, nil
	}
	if err != nil {
		s.state = saved
	}
	return err
}

func (s *memStore) Ping(context.Context) error { return nil }

// Outside a transaction each call takes the lock on its own.
func (s *memStore) Products() ProductRepository   { return lockedProducts{s} }
func (s *memStore) Orders() OrderRepository       { return lockedOrders{s} }
func (s *memStore) Webhooks() WebhookInbox        { return lockedInbox{s} }
func (s *memStore) Idempotency() IdempotencyStore { return nil }

func (s *memStore) publishedTypes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, e := range s.state.events {
		out = append(out, e.Type)
	}
	return out
}

func (s *memStore) stock(id string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.state.products[id]
	return p.Stock()
}

func (s *memStore) orderCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.state.orders)
}

type memTx struct{ s *memStore }

func (t memTx) Products() ProductRepository   { return memProducts{t.s} }
func (t memTx) Orders() OrderRepository       { return memOrders{t.s} }
func (t memTx) Webhooks() WebhookInbox        { return t }
func (t memTx) Idempotency() IdempotencyStore { return nil }
func (t memTx) Outbox() Outbox                { return t }

func (t memTx) Publish(_ context.Context, events ...Event) error {
	t.s.state.events = append(t.s.state.events, events...)
	return nil
}

func (t memTx) Record(_ context.Context, ev payment.Event, at time.Time) (bool, error) {
	if _, seen := t.s.state.inbox[ev.ID]; seen {
		return false, nil
	}
	t.s.state.inbox[ev.ID] = InboxEntry{Event: ev, ReceivedAt: at}
	return true, nil
}

func (t memTx) Claim(_ context.Context, id string, at time.Time) (bool, error) {
	e, ok := t.s.state.inbox[id]
	if !ok || !e.ProcessedAt.IsZero() {
		return false, nil
	}
	e.ProcessedAt, e.Problem = at, ""
	t.s.state.inbox[id] = e
	return true, nil
}

func (t memTx) Lease(_ context.Context, now, until time.Time, limit int) ([]InboxEntry, error) {
	var out []InboxEntry
	for _, e := range t.inboxInOrder() {
		if e.ProcessedAt.IsZero() && !e.LockedUntil.After(now) && len(out) < limit {
			e.LockedUntil = until
			t.s.state.inbox[e.Event.ID] = e
			out = append(out, e)
		}
	}
	return out, nil
}

func (t memTx) Fail(_ context.Context, id, problem string, retryAt time.Time) error {
	e := t.s.state.inbox[id]
	e.Problem, e.Attempts, e.LockedUntil = problem, e.Attempts+1, retryAt
	t.s.state.inbox[id] = e
	return nil
}

// List pages by position in receipt order (the fakes' cursor is an index).
func (t memTx) List(_ context.Context, q InboxQuery) ([]InboxEntry, string, error) {
	var out []InboxEntry
	for _, e := range t.inboxInOrder() {
		if q.Status == "" || e.Status() == q.Status {
			out = append(out, e)
		}
	}
	start, _ := strconv.Atoi(q.After)
	out = out[min(start, len(out)):]
	if len(out) <= q.Limit {
		return out, "", nil
	}
	return out[:q.Limit], strconv.Itoa(start + q.Limit), nil
}

func (t memTx) inboxInOrder() []InboxEntry {
	entries := slices.Collect(maps.Values(t.s.state.inbox))
	slices.SortFunc(entries, func(a, b InboxEntry) int {
		return cmp.Or(a.ReceivedAt.Compare(b.ReceivedAt), strings.Compare(a.Event.ID, b.Event.ID))
	})
	return entries
}

func (t memTx) Get(_ context.Context, id string) (InboxEntry, error) {
	e, ok := t.s.state.inbox[id]
	if !ok {
		return InboxEntry{}, ErrInboxEventNotFound
	}
	return e, nil
}

// lockedInbox runs each inbox call on its own, outside a transaction.
type lockedInbox struct{ s *memStore }

func (i lockedInbox) Record(ctx context.Context, ev payment.Event, at time.Time) (fresh bool, err error) {
	err = i.s.InTx(ctx, func(ctx context.Context, tx StoreTx) error {
		fresh, err = tx.Webhooks().Record(ctx, ev, at)
		return err
	})
	return fresh, err
}

func (i lockedInbox) Claim(ctx context.Context, id string, at time.Time) (won bool, err error) {
	err = i.s.InTx(ctx, func(ctx context.Context, tx StoreTx) error {
		won, err = tx.Webhooks().Claim(ctx, id, at)
		return err
	})
	return won, err
}

func (i lockedInbox) Lease(ctx context.Context, now, until time.Time, limit int) (leased []InboxEntry, err error) {
	err = i.s.InTx(ctx, func(ctx context.Context, tx StoreTx) error {
		leased, err = tx.Webhooks().Lease(ctx, now, until, limit)
		return err
	})
	return leased, err
}

func (i lockedInbox) Fail(ctx context.Context, id, problem string, retryAt time.Time) error {
	return i.s.InTx(ctx, func(ctx context.Context, tx StoreTx) error { return tx.Webhooks().Fail(ctx, id, problem, retryAt) })
}

func (i lockedInbox) List(ctx context.Context, q InboxQuery) ([]InboxEntry, string, error) {
	i.s.mu.Lock()
	defer i.s.mu.Unlock()
	return memTx(i).List(ctx, q)
}

func (i lockedInbox) Get(ctx context.Context, id string) (InboxEntry, error) {
	i.s.mu.Lock()
	defer i.s.mu.Unlock()
	return memTx(i).Get(ctx, id)
}

type memProducts struct{ s *memStore }

func (r memProducts) Get(_ context.Context, id string) (*catalog.Product, error) {
	p, ok := r.s.state.products[id]
	if !ok {
		return nil, catalog.ErrNotFound
	}
	return &p, nil
}

func (r memProducts) GetMany(ctx context.Context, ids []string) (map[string]*catalog.Product, error) {
	out := map[string]*catalog.Product{}
	for _, id := range ids {
		if p, err := r.Get(ctx, id); err == nil {
			out[id] = p
		}
	}
	return out, nil
}

func (r memProducts) List(_ context.Context, q ProductQuery) ([]*catalog.Product, string, error) {
	var ids []string
	for id := range r.s.state.products {
		if id > q.After {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	next := ""
	if len(ids) > q.Limit {
		ids, next = ids[:q.Limit], ids[q.Limit-1]
	}
	out := make([]*catalog.Product, 0, len(ids))
	for _, id := range ids {
		p := r.s.state.products[id]
		out = append(out, &p)
	}
	return out, next, nil
}

func (r memProducts) Add(_ context.Context, p *catalog.Product) error {
	r.s.state.products[p.ID()] = *p
	return nil
}

func (r memProducts) Update(ctx context.Context, id string, fn func(p *catalog.Product) error) (*catalog.Product, error) {
	p, err := r.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := fn(p); err != nil {
		return nil, err
	}
	r.s.state.products[id] = *p
	return p, nil
}

func (r memProducts) Reserve(ctx context.Context, id string, qty int64) error {
	p, err := r.Get(ctx, id)
	if err != nil {
		return err
	}
	if p.Stock() < qty {
		return catalog.ErrOutOfStock
	}
	r.s.state.products[id] = *restock(p, p.Stock()-qty)
	return nil
}

func (r memProducts) Release(ctx context.Context, id string, qty int64) error {
	p, err := r.Get(ctx, id)
	if err != nil {
		return err
	}
	r.s.state.products[id] = *restock(p, p.Stock()+qty)
	return nil
}

func (r memProducts) Count(context.Context) (int, error) { return len(r.s.state.products), nil }

func restock(p *catalog.Product, stock int64) *catalog.Product {
	return catalog.Restore(p.ID(), p.SellerID(), p.Title(), p.Price(), stock, p.PhotoURL(), p.CreatedAt(), p.UpdatedAt())
}

type memOrders struct{ s *memStore }

func (r memOrders) Add(_ context.Context, o *order.Order) error {
	if _, dup := r.s.state.orders[o.ID()]; dup {
		return fmt.Errorf("order %s exists", o.ID())
	}
	r.s.state.orders[o.ID()] = o.Snapshot()
	return nil
}

func (r memOrders) Get(_ context.Context, id string) (*order.Order, error) {
	s, ok := r.s.state.orders[id]
	if !ok {
		return nil, order.ErrNotFound
	}
	return order.Restore(s), nil
}

func (r memOrders) Update(ctx context.Context, id string, fn func(o *order.Order) error) (*order.Order, error) {
	o, err := r.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := fn(o); err != nil {
		return nil, err
	}
	r.s.state.orders[id] = o.Snapshot()
	return o, nil
}

func (r memOrders) FindIDByIntent(_ context.Context, intentID string) (string, error) {
	for id, s := range r.s.state.orders {
		if s.Payment.IntentID == intentID {
			return id, nil
		}
	}
	return "", order.ErrNotFound
}

func (r memOrders) List(context.Context, OrderQuery) ([]*order.Order, string, error) {
	return nil, "", errors.New("not used by these tests")
}

func (r memOrders) ListAwaitingPayment(_ context.Context, before time.Time, limit int) ([]string, error) {
	var ids []string
	for id, s := range r.s.state.orders {
		if s.Status == order.StatusPending && s.Payment.Method == payment.MethodCard && s.CreatedAt.Before(before) && len(ids) < limit {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

func (r memOrders) ListWithPendingRefunds(_ context.Context, before time.Time, limit int) ([]string, error) {
	var ids []string
	for id, s := range r.s.state.orders {
		for _, rf := range s.Refunds {
			if rf.Status == order.RefundPending && rf.CreatedAt.Before(before) && len(ids) < limit {
				ids = append(ids, id)
				break
			}
		}
	}
	return ids, nil
}

func (r memOrders) UnpaidCardHolding(_ context.Context, customerID string) (UnpaidHolding, error) {
	var held UnpaidHolding
	for _, s := range r.s.state.orders {
		if s.CustomerID == customerID && s.Status == order.StatusPending && s.Payment.Method == payment.MethodCard {
			held.Orders++
			for _, it := range s.Items {
				held.Units += it.Quantity
			}
		}
	}
	return held, nil
}

// lockedProducts and lockedOrders run each call under the store's lock, as autocommit calls.
type lockedProducts struct{ s *memStore }

func (r lockedProducts) Get(ctx context.Context, id string) (p *catalog.Product, err error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return memProducts(r).Get(ctx, id)
}

func (r lockedProducts) GetMany(ctx context.Context, ids []string) (map[string]*catalog.Product, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return memProducts(r).GetMany(ctx, ids)
}

func (r lockedProducts) List(ctx context.Context, q ProductQuery) ([]*catalog.Product, string, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return memProducts(r).List(ctx, q)
}

func (r lockedProducts) Add(ctx context.Context, p *catalog.Product) error {
	return r.s.InTx(ctx, func(ctx context.Context, tx StoreTx) error { return tx.Products().Add(ctx, p) })
}

func (r lockedProducts) Update(ctx context.Context, id string, fn func(p *catalog.Product) error) (out *catalog.Product, err error) {
	err = r.s.InTx(ctx, func(ctx context.Context, tx StoreTx) error {
		out, err = tx.Products().Update(ctx, id, fn)
		return err
	})
	return out, err
}

func (r lockedProducts) Reserve(ctx context.Context, id string, qty int64) error {
	return r.s.InTx(ctx, func(ctx context.Context, tx StoreTx) error { return tx.Products().Reserve(ctx, id, qty) })
}

func (r lockedProducts) Release(ctx context.Context, id string, qty int64) error {
	return r.s.InTx(ctx, func(ctx context.Context, tx StoreTx) error { return tx.Products().Release(ctx, id, qty) })
}

func (r lockedProducts) Count(ctx context.Context) (int, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return memProducts(r).Count(ctx)
}

type lockedOrders struct{ s *memStore }

func (r lockedOrders) Add(ctx context.Context, o *order.Order) error {
	return r.s.InTx(ctx, func(ctx context.Context, tx StoreTx) error { return tx.Orders().Add(ctx, o) })
}

func (r lockedOrders) Get(ctx context.Context, id string) (*order.Order, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return memOrders(r).Get(ctx, id)
}

func (r lockedOrders) Update(ctx context.Context, id string, fn func(o *order.Order) error) (out *order.Order, err error) {
	err = r.s.InTx(ctx, func(ctx context.Context, tx StoreTx) error {
		out, err = tx.Orders().Update(ctx, id, fn)
		return err
	})
	return out, err
}

func (r lockedOrders) FindIDByIntent(ctx context.Context, intentID string) (string, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return memOrders(r).FindIDByIntent(ctx, intentID)
}

func (r lockedOrders) List(ctx context.Context, q OrderQuery) ([]*order.Order, string, error) {
	return memOrders(r).List(ctx, q)
}

func (r lockedOrders) ListAwaitingPayment(ctx context.Context, before time.Time, limit int) ([]string, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return memOrders(r).ListAwaitingPayment(ctx, before, limit)
}

func (r lockedOrders) ListWithPendingRefunds(ctx context.Context, before time.Time, limit int) ([]string, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return memOrders(r).ListWithPendingRefunds(ctx, before, limit)
}

func (r lockedOrders) UnpaidCardHolding(ctx context.Context, customerID string) (UnpaidHolding, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return memOrders(r).UnpaidCardHolding(ctx, customerID)
}

// fakeGateway is a scripted payment provider: tests set what GetIntent reports.
type fakeGateway struct {
	name      string // "fake" when empty
	mu        sync.Mutex
	intents   map[string]payment.Intent
	createErr error
	refundErr error
	getErr    error
	created   int
	cancelled []string
	refunds   map[string]RefundResult // by idempotency key
}

func newFakeGateway() *fakeGateway {
	return &fakeGateway{intents: map[string]payment.Intent{}, refunds: map[string]RefundResult{}}
}

func (g *fakeGateway) Provider() string { return cmp.Or(g.name, "fake") }

func (g *fakeGateway) CreateIntent(_ context.Context, req IntentRequest) (payment.Intent, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.createErr != nil {
		return payment.Intent{}, g.createErr
	}
	g.created++
	id := fmt.Sprintf("pi_%s%d", g.name, g.created)
	in := payment.Intent{ID: id, ClientSecret: id + "_secret_x", Amount: req.Amount.Minor(),
		Currency: req.Amount.Currency().Code(), Status: payment.IntentRequiresPaymentMethod, OrderID: req.OrderID}
	g.intents[id] = in
	return in, nil
}

func (g *fakeGateway) GetIntent(_ context.Context, id string) (payment.Intent, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.getErr != nil {
		return payment.Intent{}, g.getErr
	}
	in, ok := g.intents[id]
	if !ok {
		return payment.Intent{}, ErrIntentNotFound
	}
	return in, nil
}

func (g *fakeGateway) CancelIntent(_ context.Context, id string) (payment.Intent, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	in := g.intents[id]
	if in.Status == payment.IntentSucceeded { // as at Stripe: a succeeded intent cannot be cancelled
		return payment.Intent{}, ErrProviderRejected
	}
	g.cancelled = append(g.cancelled, id)
	in.Status = payment.IntentCanceled
	g.intents[id] = in
	return in, nil
}

func (g *fakeGateway) Refund(_ context.Context, req RefundRequest) (RefundResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.refundErr != nil {
		return RefundResult{}, g.refundErr
	}
	if r, ok := g.refunds[req.RefundID]; ok {
		return r, nil
	}
	in := g.intents[req.IntentID]
	if in.Status != payment.IntentSucceeded || in.AmountRefunded+req.Amount.Minor() > in.Amount {
		return RefundResult{}, ErrProviderRejected
	}
	in.AmountRefunded += req.Amount.Minor()
	g.intents[req.IntentID] = in
	r := RefundResult{ID: fmt.Sprintf("re_%d", len(g.refunds)+1), Status: "succeeded", Amount: req.Amount.Minor()}
	g.refunds[req.RefundID] = r
	return r, nil
}

func (g *fakeGateway) refundCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.refunds)
}

// set changes what the provider reports for intent id.
func (g *fakeGateway) set(id string, change func(in *payment.Intent)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	in := g.intents[id]
	change(&in)
	g.intents[id] = in
}

// movableClock is a clock that tests move forward.
type movableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *movableClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeVerifier accepts payloads of the form "<event id> <type> <intent id>" signed "ok".
type fakeVerifier struct{}

// A delivery may hold several payloads, one a line.
func (v fakeVerifier) VerifyDelivery(payload []byte, headers WebhookHeaders) ([]payment.Event, error) {
	if headers.Get("Signature") != "ok" {
		return nil, ErrWebhookSignature
	}
	var events []payment.Event
	for _, line := range bytes.Split(payload, []byte("\n")) {
		ev, err := v.Decode(line)
		if err != nil {
			return nil, err
		}
		events = append(events, ev)
	}
	return events, nil
}

// signature is a delivery's only header, the signature the fake verifier checks.
type signature string

func (s signature) Get(string) string { return string(s) }

func (fakeVerifier) Decode(payload []byte) (payment.Event, error) {
	var id, typ, intent string
	if _, err := fmt.Sscanf(string(payload), "%s %s %s", &id, &typ, &intent); err != nil {
		return payment.Event{}, ErrWebhookPayload
	}
	return payment.Event{ID: id, Type: payment.EventType(typ), IntentID: intent, Payload: payload}, nil
}

func usd(minor int64) money.Money {
	m, err := money.New(minor, money.USD)
	if err != nil {
		panic(err)
	}
	return m
}
