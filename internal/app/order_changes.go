package app

import (
	"sync"

	"github.com/wolfix/orders/internal/domain/order"
)

// MaxOrderWatchers bounds how many waiters an OrderChanges holds at once. Past it a waiter is not
// subscribed and learns of a change only by re-reading the order (every OrderRereadEvery).
const MaxOrderWatchers = 10_000

// OrderChanges tells the readers waiting on an order (OrderQueries.Await) that a transaction of
// this process committed a change to it, with the order as that transaction stored it when the
// transaction updated it (Committed), so that the waiter need not read it again; after a change
// whose stored form is not known (Notify) a woken waiter re-reads the order. The unit of work tells
// it after a successful commit only, never for a rolled-back transaction. Telling never blocks:
// each waiter has room for one pending signal, and one is enough, since it keeps the newest order
// told. It knows only this process's commits; a change another replica commits is found by the
// waiter's own re-reads. Close ends every wait, for a process that stops. A nil *OrderChanges
// watches nothing, tells nobody and is never closed.
type OrderChanges struct {
	mu       sync.Mutex
	watchers map[string]map[chan *order.Order]struct{} // order id → its waiters' channels
	count    int
	closed   chan struct{}
	close    sync.Once
}

// NewOrderChanges returns a hub without waiters.
func NewOrderChanges() *OrderChanges {
	return &OrderChanges{watchers: map[string]map[chan *order.Order]struct{}{}, closed: make(chan struct{})}
}

// Close tells every waiter, now and later, to stop waiting; calling it again does nothing.
func (h *OrderChanges) Close() {
	if h != nil {
		h.close.Do(func() { close(h.closed) })
	}
}

// closing is closed by Close (nil, never closed, on a nil hub).
func (h *OrderChanges) closing() <-chan struct{} {
	if h == nil {
		return nil
	}
	return h.closed
}

// Watch subscribes to the changes of order id: changed receives a signal after each commit that
// changed it: the order as stored, or nil when only the change is known (signals that arrive
// before the waiter reads them merge into one, the newest order told, else nil). stop ends the
// subscription and must be called; calling it again does nothing. Past MaxOrderWatchers, and on a
// nil hub, changed is nil (it never fires).
func (h *OrderChanges) Watch(id string) (changed <-chan *order.Order, stop func()) {
	if h == nil {
		return nil, func() {}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.count >= MaxOrderWatchers {
		return nil, func() {}
	}
	ch := make(chan *order.Order, 1)
	if h.watchers[id] == nil {
		h.watchers[id] = map[chan *order.Order]struct{}{}
	}
	h.watchers[id][ch] = struct{}{}
	h.count++
	return ch, func() { h.unwatch(id, ch) }
}

func (h *OrderChanges) unwatch(id string, ch chan *order.Order) {
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.watchers[id]
	if _, ok := set[ch]; !ok {
		return
	}
	delete(set, ch)
	h.count--
	if len(set) == 0 {
		delete(h.watchers, id)
	}
}

// Watched reports whether a reader waits on order id now (never, on a nil hub).
func (h *OrderChanges) Watched(id string) bool {
	if h == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.watchers[id]) > 0
}

// Notify signals the waiters of every order in ids that it changed, without blocking; they re-read
// it.
func (h *OrderChanges) Notify(ids ...string) {
	if h == nil || len(ids) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range ids {
		for ch := range h.watchers[id] {
			signal(ch, nil)
		}
	}
}

// Committed hands the waiters of each order the order as a committed transaction stored it,
// without blocking.
func (h *OrderChanges) Committed(stored ...*order.Order) {
	if h == nil || len(stored) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, o := range stored {
		for ch := range h.watchers[o.ID()] {
			signal(ch, o)
		}
	}
}

// signal leaves one signal pending on ch: o, unless the one pending is a newer order; a nil one
// (re-read) when either is nil, as the change it stands for may be newer than any order told.
// The hub's lock makes it the only sender.
func signal(ch chan *order.Order, o *order.Order) {
	select {
	case pending := <-ch:
		switch {
		case pending == nil || o == nil:
			o = nil
		case pending.Version() > o.Version():
			o = pending
		}
	default:
	}
	ch <- o
}
