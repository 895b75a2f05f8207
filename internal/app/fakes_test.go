package app

import (
	"context"
	"errors"
	"fmt"
	"sort"
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
	inbox    map[string]string
	events   []Event
}

func newMemStore() *memStore {
	return &memStore{state: memState{products: map[string]catalog.Product{},
		orders: map[string]order.Snapshot{}, inbox: map[string]string{}}}
}

func (s memState) clone() memState {
	c := memState{products: map[string]catalog.Product{}, orders: map[string]order.Snapshot{},
		inbox: map[string]string{}, events: append([]Event(nil), s.events...)}
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

func (s *memStore) InTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error {
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
func (s *memStore) Webhooks() WebhookInbox        { return memTx{s} }
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

func (t memTx) Record(_ context.Context, ev payment.Event, _ time.Time) (bool, error) {
	if _, seen := t.s.state.inbox[ev.ID]; seen {
		return false, nil
	}
	t.s.state.inbox[ev.ID] = "received"
	return true, nil
}

func (t memTx) MarkProcessed(_ context.Context, id, problem string, _ time.Time) error {
	t.s.state.inbox[id] = "processed:" + problem
	return nil
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
	return r.s.InTx(ctx, func(ctx context.Context, tx Tx) error { return tx.Products().Add(ctx, p) })
}

func (r lockedProducts) Update(ctx context.Context, id string, fn func(p *catalog.Product) error) (out *catalog.Product, err error) {
	err = r.s.InTx(ctx, func(ctx context.Context, tx Tx) error {
		out, err = tx.Products().Update(ctx, id, fn)
		return err
	})
	return out, err
}

func (r lockedProducts) Reserve(ctx context.Context, id string, qty int64) error {
	return r.s.InTx(ctx, func(ctx context.Context, tx Tx) error { return tx.Products().Reserve(ctx, id, qty) })
}

func (r lockedProducts) Release(ctx context.Context, id string, qty int64) error {
	return r.s.InTx(ctx, func(ctx context.Context, tx Tx) error { return tx.Products().Release(ctx, id, qty) })
}

func (r lockedProducts) Count(ctx context.Context) (int, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return memProducts(r).Count(ctx)
}

type lockedOrders struct{ s *memStore }

func (r lockedOrders) Add(ctx context.Context, o *order.Order) error {
	return r.s.InTx(ctx, func(ctx context.Context, tx Tx) error { return tx.Orders().Add(ctx, o) })
}

func (r lockedOrders) Get(ctx context.Context, id string) (*order.Order, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return memOrders(r).Get(ctx, id)
}

func (r lockedOrders) Update(ctx context.Context, id string, fn func(o *order.Order) error) (out *order.Order, err error) {
	err = r.s.InTx(ctx, func(ctx context.Context, tx Tx) error {
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

// fakeGateway is a scripted payment provider: tests set what GetIntent reports.
type fakeGateway struct {
	mu        sync.Mutex
	intents   map[string]payment.Intent
	createErr error
	created   int
	cancelled []string
}

func newFakeGateway() *fakeGateway { return &fakeGateway{intents: map[string]payment.Intent{}} }

func (g *fakeGateway) Provider() string { return "fake" }

func (g *fakeGateway) CreateIntent(_ context.Context, req IntentRequest) (payment.Intent, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.createErr != nil {
		return payment.Intent{}, g.createErr
	}
	g.created++
	id := fmt.Sprintf("pi_%d", g.created)
	in := payment.Intent{ID: id, ClientSecret: id + "_secret_x", Amount: req.Amount.Minor(),
		Currency: req.Amount.Currency().Code(), Status: payment.IntentRequiresPaymentMethod, OrderID: req.OrderID}
	g.intents[id] = in
	return in, nil
}

func (g *fakeGateway) GetIntent(_ context.Context, id string) (payment.Intent, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	in, ok := g.intents[id]
	if !ok {
		return payment.Intent{}, ErrIntentNotFound
	}
	return in, nil
}

func (g *fakeGateway) CancelIntent(_ context.Context, id string) (payment.Intent, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.cancelled = append(g.cancelled, id)
	in := g.intents[id]
	in.Status = payment.IntentCanceled
	g.intents[id] = in
	return in, nil
}

func (g *fakeGateway) Refund(context.Context, RefundRequest) (RefundResult, error) {
	return RefundResult{}, errors.New("not used by these tests")
}

// set changes what the provider reports for intent id.
func (g *fakeGateway) set(id string, change func(in *payment.Intent)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	in := g.intents[id]
	change(&in)
	g.intents[id] = in
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// fakeVerifier accepts payloads of the form "<event id>|<type>|<intent id>" signed "ok".
type fakeVerifier struct{}

func (fakeVerifier) Verify(payload []byte, sig string) (payment.Event, error) {
	if sig != "ok" {
		return payment.Event{}, ErrWebhookSignature
	}
	var id, typ, intent string
	if _, err := fmt.Sscanf(string(payload), "%s %s %s", &id, &typ, &intent); err != nil {
		return payment.Event{}, ErrWebhookPayload
	}
	return payment.Event{ID: id, Type: payment.EventType(typ), IntentID: intent}, nil
}

func usd(minor int64) money.Money {
	m, err := money.New(minor, money.USD)
	if err != nil {
		panic(err)
	}
	return m
}
