package app

import "sync"

// MaxOrderWatchers bounds how many waiters an OrderChanges holds at once. Past it a waiter is not
// subscribed and learns of a change only by re-reading the order (every OrderRereadEvery).
const MaxOrderWatchers = 10_000

// OrderChanges tells the readers waiting on an order (OrderQueries.Await) that a transaction of
// this process committed a change to it. The unit of work notifies it after a successful commit
// only, never for a rolled-back transaction. Notifying never blocks: each waiter has room for one
// pending signal, and one is enough, since a woken waiter re-reads the order. It knows only this
// process's commits; a change another replica commits is found by the waiter's own re-reads.
// Close ends every wait, for a process that stops. A nil *OrderChanges watches nothing, notifies
// nobody and is never closed.
type OrderChanges struct {
	mu       sync.Mutex
	watchers map[string]map[chan struct{}]struct{} // order id → its waiters' channels
	count    int
	closed   chan struct{}
	close    sync.Once
}

// NewOrderChanges returns a hub without waiters.
func NewOrderChanges() *OrderChanges {
	return &OrderChanges{watchers: map[string]map[chan struct{}]struct{}{}, closed: make(chan struct{})}
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
// changed it (signals that arrive before the waiter reads them merge into one). stop ends the
// subscription and must be called; calling it again does nothing. Past MaxOrderWatchers, and on a
// nil hub, changed is nil (it never fires).
func (h *OrderChanges) Watch(id string) (changed <-chan struct{}, stop func()) {
	if h == nil {
		return nil, func() {}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.count >= MaxOrderWatchers {
		return nil, func() {}
	}
	ch := make(chan struct{}, 1)
	if h.watchers[id] == nil {
		h.watchers[id] = map[chan struct{}]struct{}{}
	}
	h.watchers[id][ch] = struct{}{}
	h.count++
	return ch, func() { h.unwatch(id, ch) }
}

func (h *OrderChanges) unwatch(id string, ch chan struct{}) {
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

// Notify signals the waiters of every order in ids, without blocking.
func (h *OrderChanges) Notify(ids ...string) {
	if h == nil || len(ids) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range ids {
		for ch := range h.watchers[id] {
			select {
			case ch <- struct{}{}:
			default: // a signal is already pending
			}
		}
	}
}
