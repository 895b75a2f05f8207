package memory

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

type orders repos

func (r orders) Add(ctx context.Context, o *order.Order) error {
	return r.run(ctx, func(st *state) error {
		if _, dup := st.orders[o.ID()]; dup {
			return errors.New("memory: the order exists")
		}
		intent := o.Payment().IntentID()
		if _, err := st.orderIDByIntent(intent); intent != "" && err == nil {
			return errors.New("memory: another order is paid by the intent")
		}
		st.orders[o.ID()] = o.Snapshot()
		return nil
	})
}

func (r orders) Get(ctx context.Context, id string) (o *order.Order, err error) {
	err = r.run(ctx, func(st *state) error {
		o, err = st.order(id)
		return err
	})
	return o, err
}

func (r orders) Glance(ctx context.Context, id string) (app.OrderGlance, error) {
	o, err := r.Get(ctx, id)
	if err != nil {
		return app.OrderGlance{}, err
	}
	p := o.Payment()
	return app.OrderGlance{CustomerID: o.CustomerID(), Version: o.Version(), PaymentMethod: p.Method(),
		PaymentStatus: p.Status(), PaymentProvider: p.Provider(), IntentID: p.IntentID()}, nil
}

// Update stores what fn changed at the next version; the order it returns keeps its new changes.
func (r orders) Update(ctx context.Context, id string, fn func(o *order.Order) error) (o *order.Order, err error) {
	err = r.run(ctx, func(st *state) error {
		if o, err = st.order(id); err != nil {
			return err
		}
		if err := fn(o); err != nil {
			return err
		}
		stored := o.Snapshot()
		stored.Version++
		st.orders[id] = stored
		return nil
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

func (r orders) FindIDByIntent(ctx context.Context, intentID string) (id string, err error) {
	err = r.run(ctx, func(st *state) error {
		id, err = st.orderIDByIntent(intentID)
		return err
	})
	return id, err
}

func (r orders) List(ctx context.Context, q app.OrderQuery) (out []*order.Order, next string, err error) {
	err = r.run(ctx, func(st *state) error {
		matching := st.ordersWhere(func(s order.Snapshot) bool {
			return (q.CustomerID == "" || s.CustomerID == q.CustomerID) && (q.Status == "" || s.Status == q.Status)
		})
		slices.Reverse(matching)
		var snaps []order.Snapshot
		snaps, next, err = page(matching, placedAt, true, q.After, q.Limit)
		for _, s := range snaps {
			out = append(out, order.Restore(s))
		}
		return err
	})
	return out, next, err
}

func (r orders) ListAwaitingPayment(ctx context.Context, q app.AwaitingQuery) (ids []string, next string, err error) {
	err = r.run(ctx, func(st *state) error {
		var snaps []order.Snapshot
		snaps, next, err = page(st.ordersWhere(func(s order.Snapshot) bool {
			return unpaidCard(s) && s.CreatedAt.Before(q.PlacedBefore)
		}), placedAt, false, q.After, max(q.Limit, 1))
		ids = orderIDs(snaps, len(snaps))
		return err
	})
	return ids, next, err
}

func (r orders) ListWithPendingRefunds(ctx context.Context, requestedBefore time.Time, limit int) (ids []string, err error) {
	err = r.run(ctx, func(st *state) error {
		ids = orderIDs(st.ordersWhere(func(s order.Snapshot) bool {
			return slices.ContainsFunc(s.Refunds, func(rf order.Refund) bool {
				return rf.Status == order.RefundPending && rf.CreatedAt.Before(requestedBefore)
			})
		}), limit)
		return nil
	})
	return ids, err
}

func (r orders) UnpaidCardHolding(ctx context.Context, customerID string) (app.UnpaidHolding, error) {
	return r.holding(ctx, customerID, "")
}

// AdmitUnpaid needs no lock of its own: the store's one lock serializes transactions.
func (r orders) AdmitUnpaid(ctx context.Context, o *order.Order, limit app.UnpaidCap) error {
	held, err := r.holding(ctx, o.CustomerID(), o.ID())
	if err != nil {
		return err
	}
	return limit.Refusal(held, app.UnitsOf(o))
}

// holding is what customerID holds in unpaid card orders, leaving the order except out.
func (r orders) holding(ctx context.Context, customerID, except string) (held app.UnpaidHolding, err error) {
	err = r.run(ctx, func(st *state) error {
		for _, s := range st.ordersWhere(func(s order.Snapshot) bool {
			return s.CustomerID == customerID && s.ID != except && unpaidCard(s)
		}) {
			held.Orders++
			for _, it := range s.Items {
				held.Units += it.Quantity
			}
		}
		return nil
	})
	return held, err
}

func (st *state) order(id string) (*order.Order, error) {
	s, ok := st.orders[id]
	if !ok {
		return nil, order.ErrNotFound
	}
	return order.Restore(s), nil
}

func (st *state) orderIDByIntent(intentID string) (string, error) {
	for id, s := range st.orders {
		if intentID != "" && s.Payment.IntentID == intentID {
			return id, nil
		}
	}
	return "", order.ErrNotFound
}

// ordersWhere returns the orders that match, oldest first.
func (st *state) ordersWhere(match func(s order.Snapshot) bool) []order.Snapshot {
	var out []order.Snapshot
	for _, s := range st.orders {
		if match(s) {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b order.Snapshot) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out
}

func placedAt(s order.Snapshot) position { return position{at: s.CreatedAt, id: s.ID} }

func unpaidCard(s order.Snapshot) bool {
	return s.Status == order.StatusPending && s.Payment.Method == payment.MethodCard
}

func orderIDs(snaps []order.Snapshot, limit int) []string {
	ids := make([]string, 0, min(len(snaps), limit))
	for _, s := range snaps[:min(len(snaps), limit)] {
		ids = append(ids, s.ID)
	}
	return ids
}
