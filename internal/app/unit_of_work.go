package app

import (
	"context"

	"github.com/wolfix/orders/internal/domain/order"
)

// UnitOfWork is the store as the use cases see it: repositories that run each call on its own,
// and transactions that write, before they commit, the integration events implied by every order
// the transaction added or changed (and any event a use case raised), so a use case cannot forget
// an event and an event never outlives a rolled-back change. For a request that holds an
// Idempotency-Key claim, every transaction first holds the claim (so a request whose key a retry
// took over commits nothing, and a takeover waits for a transaction under way), and keeps the
// answer its work named (answer) in the same transaction.
type UnitOfWork interface {
	Repositories
	// InTx runs fn in one transaction, as Store.InTx does, and writes the events of fn's changes
	// in it.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
}

// NewUnitOfWork builds the unit of work over store.
func NewUnitOfWork(store Store) UnitOfWork { return unitOfWork{Store: store} }

// unitOfWork tells changes (when set) of the orders each committed transaction added or updated.
type unitOfWork struct {
	Store
	changes *OrderChanges
}

// InTx runs fn in one transaction of the store: fenced by the request's claim, writing the events
// of fn's changes, and keeping the request's answer. Once it committed, the waiters on the orders
// it added or updated are notified.
func (u unitOfWork) InTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error {
	claim := IdempotencyClaimFrom(ctx)
	var kept *Answer
	var w *work
	err := u.Store.InTx(ctx, func(ctx context.Context, stx StoreTx) error {
		kept = nil
		if claim != nil {
			if err := stx.Idempotency().Hold(ctx, claim.Scope, claim.Key, claim.Token); err != nil {
				return err
			}
		}
		w = &work{StoreTx: stx, watched: u.changes.Watched}
		if err := fn(context.WithValue(ctx, workKey{}, w), w); err != nil {
			return err
		}
		if err := w.writeEvents(ctx); err != nil {
			return err
		}
		a, ok, err := w.keepAnswer(ctx, claim)
		if ok {
			kept = &a
		}
		return err
	})
	if err != nil {
		return err
	}
	if kept != nil {
		claim.setKept(*kept)
	}
	if w != nil {
		u.changes.Notify(w.changed...)
		u.changes.Committed(w.stored...)
	}
	return nil
}

// work is one transaction of the unit of work, as its use case sees it (a Tx): it notes the events
// of every order the use case adds or changes through it, the stored form of those it updates
// while a reader waits on them (watched), the ids of the others, any event raised, and the answer
// named.
type work struct {
	StoreTx
	watched func(orderID string) bool
	events  []Event
	changed []string       // told by id: their waiters, if any came since, read them again
	stored  []*order.Order // handed to their waiters
	answer  any
	named   bool
}

type workKey struct{}

// Orders returns the transaction's orders, noting the events of what Add and Update store.
func (w *work) Orders() OrderRepository { return eventfulOrders{w.StoreTx.Orders(), w} }

// writeEvents writes the transaction's events to its outbox; a transaction without any never
// opens the outbox (a tool's store may have none).
func (w *work) writeEvents(ctx context.Context) error {
	if len(w.events) == 0 {
		return nil
	}
	return w.Outbox().Publish(ctx, w.events...)
}

func (w *work) keepAnswer(ctx context.Context, claim *IdempotencyClaim) (Answer, bool, error) {
	if claim == nil || !w.named {
		return Answer{}, false, nil
	}
	a, ok, err := claim.renderResult(w.answer)
	if err != nil || !ok {
		return Answer{}, false, err
	}
	if err := w.Idempotency().Keep(ctx, claim.Scope, claim.Key, claim.Token, a); err != nil {
		return Answer{}, false, err
	}
	return a, true, nil
}

// eventfulOrders is an OrderRepository whose stored changes become the transaction's events (and
// its changed orders).
type eventfulOrders struct {
	OrderRepository
	w *work
}

func (r eventfulOrders) Add(ctx context.Context, o *order.Order) error {
	if err := r.OrderRepository.Add(ctx, o); err != nil {
		return err
	}
	r.w.events = append(r.w.events, eventsFor(o)...)
	r.w.changed = append(r.w.changed, o.ID())
	return nil
}

func (r eventfulOrders) Update(ctx context.Context, id string, fn func(o *order.Order) error) (*order.Order, error) {
	o, err := r.OrderRepository.Update(ctx, id, fn)
	if err != nil {
		return nil, err
	}
	r.w.events = append(r.w.events, eventsFor(o)...)
	if r.w.watched(o.ID()) {
		r.w.stored = append(r.w.stored, storedForm(o))
	} else {
		r.w.changed = append(r.w.changed, o.ID())
	}
	return o, nil
}

// storedForm is the order an update stored, as a read would return it: o (which Update returned)
// one version on, its new changes part of its timeline. Every OrderRepository stores exactly that
// (porttest's "Update stores the change, its timeline entries and a new version"), to the
// microsecond the clock gives.
func storedForm(o *order.Order) *order.Order {
	s := o.Snapshot()
	s.Version++
	return order.Restore(s)
}

// workOf returns the unit of work's transaction ctx belongs to, or nil outside one.
func workOf(ctx context.Context) *work {
	w, _ := ctx.Value(workKey{}).(*work)
	return w
}

// raise adds ev, a fact no order change records (a provider report we refused), to the events of
// the transaction ctx belongs to. Outside a unit of work's transaction it does nothing.
func raise(ctx context.Context, ev Event) {
	if w := workOf(ctx); w != nil {
		w.events = append(w.events, ev)
	}
}

// answer names result as the answer to the request whose transaction ctx belongs to. Only inside
// a unit of work's transaction, and only for a request with an Idempotency-Key, does it do
// anything: the answer is then kept in that transaction.
func answer(ctx context.Context, result any) {
	if w := workOf(ctx); w != nil {
		w.answer, w.named = result, true
	}
}
