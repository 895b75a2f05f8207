// Package memory owns in-memory implementations of the application's ports — a Store (with its
// outbox), a payment Gateway, a Notifier and a Clock — for fast tests of the use cases. Each passes
// its port's suite in app/porttest, as every real adapter does, and offers a few test hooks (what
// was published, scripted provider answers, an injected commit failure). Not for production:
// nothing survives the process, and one lock serializes every transaction.
package memory

import (
	"context"
	"maps"
	"sync"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/catalog"
	"github.com/wolfix/orders/internal/domain/order"
)

// Store is an in-memory app.Store. One mutex serializes transactions; a transaction that fails
// (or panics) restores the state it started from. Each call outside a transaction is a
// transaction of its own.
type Store struct {
	mu         sync.Mutex
	state      state
	failCommit error // returned by the next InTx instead of committing
}

// state is everything the store holds; a transaction works on it in place.
type state struct {
	products map[string]catalog.Product
	orders   map[string]order.Snapshot
	inbox    map[string]app.InboxEntry
	keys     map[idempotencyKey]idempotencyRecord
	events   []app.Event
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{state: state{products: map[string]catalog.Product{}, orders: map[string]order.Snapshot{},
		inbox: map[string]app.InboxEntry{}, keys: map[idempotencyKey]idempotencyRecord{}}}
}

func (s state) clone() state {
	return state{products: maps.Clone(s.products), orders: maps.Clone(s.orders), inbox: maps.Clone(s.inbox),
		keys: maps.Clone(s.keys), events: append([]app.Event(nil), s.events...)}
}

// InTx runs fn in one transaction; the commit fails with the failure FailNextCommit injected.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx app.StoreTx) error) error {
	return s.atomically(ctx, func(st *state) error {
		if err := fn(ctx, tx{repos{inPlace(st)}, st}); err != nil {
			return err
		}
		err := s.failCommit
		s.failCommit = nil
		return err
	})
}

// atomically runs fn on the state under the lock and keeps its changes only if it succeeds and
// ctx is still live at the commit.
func (s *Store) atomically(ctx context.Context, fn func(st *state) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	saved, committed := s.state.clone(), false
	defer func() {
		if !committed {
			s.state = saved
		}
	}()
	if err := fn(&s.state); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	committed = true
	return nil
}

// Ping always answers.
func (s *Store) Ping(context.Context) error { return nil }

// Products, Orders, Webhooks and Idempotency run each call as a transaction of its own.
func (s *Store) Products() app.ProductRepository   { return repos{s.atomically}.Products() }
func (s *Store) Orders() app.OrderRepository       { return repos{s.atomically}.Orders() }
func (s *Store) Webhooks() app.WebhookInbox        { return repos{s.atomically}.Webhooks() }
func (s *Store) Idempotency() app.IdempotencyStore { return repos{s.atomically}.Idempotency() }

// FailNextCommit makes the next InTx fail with err when it commits (a test hook for a write
// that loses a race the store decides, or a database that goes away).
func (s *Store) FailNextCommit(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failCommit = err
}

// Published returns the events committed transactions published, in order.
func (s *Store) Published() []app.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]app.Event(nil), s.state.events...)
}

// run runs fn on the state: as a transaction of its own (Store.atomically), or in place inside an
// open one (inPlace).
type run func(ctx context.Context, fn func(st *state) error) error

func inPlace(st *state) run {
	return func(_ context.Context, fn func(st *state) error) error { return fn(st) }
}

// repos are the repositories over one way of running.
type repos struct{ run run }

func (r repos) Products() app.ProductRepository   { return products(r) }
func (r repos) Orders() app.OrderRepository       { return orders(r) }
func (r repos) Webhooks() app.WebhookInbox        { return inbox(r) }
func (r repos) Idempotency() app.IdempotencyStore { return idempotency(r) }

// tx is one open transaction.
type tx struct {
	repos
	st *state
}

func (t tx) Outbox() app.Outbox { return t }

// Publish adds events to the transaction; they are kept only if it commits.
func (t tx) Publish(_ context.Context, events ...app.Event) error {
	t.st.events = append(t.st.events, events...)
	return nil
}
