package app

import (
	"context"
	"slices"
	"time"

	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/internal/domain/order"
)

// ErrStatusFilter reports an unknown status in a list filter.
var ErrStatusFilter = fault.Invalid("status_invalid", "status must be one of Pending, Confirmed, Shipped, Delivered, Cancelled, Refunded")

// ErrWait reports a wait for an order's change that is negative or longer than MaxOrderWait.
var ErrWait = fault.Invalid("wait_invalid", "wait must be a whole number of seconds from 0 to 30")

const (
	// MaxOrderWait is the longest Await holds a reader.
	MaxOrderWait = 30 * time.Second
	// OrderRereadEvery is how often Await re-reads the order it waits on. A change this process
	// commits wakes the waiter at once (OrderChanges); one another replica commits to the shared
	// database is seen at the next re-read, so at most this late.
	OrderRereadEvery = time.Second
)

// OrderQueries answers reads of orders: one order, a page of them, or one order once it changed.
type OrderQueries struct {
	store   UnitOfWork
	changes *OrderChanges
	reread  time.Duration
}

// NewOrderQueries builds the order reads; Await wakes on the changes the hub is told of (nil: it
// only re-reads).
func NewOrderQueries(store UnitOfWork, changes *OrderChanges) *OrderQueries {
	return &OrderQueries{store: store, changes: changes, reread: OrderRereadEvery}
}

// Get returns an order its customer or an admin may see; to anyone else it does not exist.
func (q *OrderQueries) Get(ctx context.Context, actor Actor, id string) (*order.Order, error) {
	if err := actor.Require(RoleCustomer, RoleAdmin); err != nil {
		return nil, err
	}
	return visibleOrder(ctx, q.store, actor, id)
}

// Await is Get for a reader that already holds the order at one of the versions known (an
// If-None-Match): it returns the order once its version is none of them, or as it is when wait
// runs out or the waits are ended first (its version then is one of known: not modified). With
// no known version or no wait it answers at once. Who may see the order is Get's rule, checked
// before any wait: to anyone else it does not exist, at once. It wakes as soon as this process
// commits a change to the order, and looks again every OrderRereadEvery for the changes other
// replicas commit. While the order stays at a version the reader knows it is only glanced at
// (Glance), never read whole: a wait a commit of this process ends reads no order at all. When
// ctx ends first it returns ctx's error: nobody is left to answer. After EndWaits it answers at
// once.
func (q *OrderQueries) Await(ctx context.Context, actor Actor, id string, known []int64, wait time.Duration) (*order.Order, error) {
	if wait < 0 || wait > MaxOrderWait {
		return nil, ErrWait
	}
	if wait == 0 || len(known) == 0 || ended(q.changes.closing()) {
		return q.Get(ctx, actor, id)
	}
	if err := actor.Require(RoleCustomer, RoleAdmin); err != nil {
		return nil, err
	}
	changed, stop := q.changes.Watch(id) // before the first look, so no commit slips in between
	defer stop()
	g, err := visibleGlance(ctx, q.store, actor, id)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(known, g.Version) {
		return q.Get(ctx, actor, id)
	}
	return q.awaitChange(ctx, actor, id, g.Version, known, changed, wait)
}

// awaitChange waits while the order, last seen at version seen, is at a version of known: it
// takes an order a commit of this process hands over (when it is newer than seen and the actor
// may see it), and glances at the order when told of a change without it or every q.reread,
// reading it whole once its version is none of known; when wait runs out or the waits are ended
// it reads the order as it is.
func (q *OrderQueries) awaitChange(ctx context.Context, actor Actor, id string, seen int64, known []int64,
	changed <-chan *order.Order, wait time.Duration) (*order.Order, error) {
	timeout := time.NewTimer(wait)
	defer timeout.Stop()
	reread := time.NewTicker(q.reread)
	defer reread.Stop()
	for slices.Contains(known, seen) {
		select {
		case stored := <-changed:
			if stored != nil && stored.IsVisibleTo(actor.UserID, actor.IsAdmin()) {
				if stored.Version() > seen && !slices.Contains(known, stored.Version()) {
					return stored, nil
				}
				seen = max(seen, stored.Version())
				continue
			}
		case <-reread.C:
		case <-timeout.C:
			return q.Get(ctx, actor, id)
		case <-q.changes.closing():
			return q.Get(ctx, actor, id)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		g, err := visibleGlance(ctx, q.store, actor, id)
		if err != nil {
			return nil, err
		}
		seen = g.Version
	}
	return q.Get(ctx, actor, id)
}

// EndWaits makes every Await under way return at once (the order as it is: a reader whose
// version still stands learns "not modified") and every later one answer without waiting. A
// server calls it as it starts shutting down, so that no reader it holds outlasts the drain of
// requests in flight.
func (q *OrderQueries) EndWaits() { q.changes.Close() }

// ended reports whether done is closed.
func ended(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// List returns a page of the actor's orders (all orders for an admin), newest first.
func (q *OrderQueries) List(ctx context.Context, actor Actor, query OrderQuery) ([]*order.Order, string, error) {
	if err := actor.Require(RoleCustomer, RoleAdmin); err != nil {
		return nil, "", err
	}
	limit, err := pageSize(query.Limit)
	if err != nil {
		return nil, "", err
	}
	query.Limit = limit
	if !validStatus(query.Status) {
		return nil, "", ErrStatusFilter
	}
	query.CustomerID = ""
	if !actor.IsAdmin() {
		query.CustomerID = actor.UserID
	}
	return q.store.Orders().List(ctx, query)
}

func validStatus(s order.Status) bool {
	switch s {
	case "", order.StatusPending, order.StatusConfirmed, order.StatusShipped, order.StatusDelivered,
		order.StatusCancelled, order.StatusRefunded:
		return true
	}
	return false
}
