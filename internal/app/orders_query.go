package app

import (
	"context"

	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/internal/domain/order"
)

// ErrStatusFilter reports an unknown status in a list filter.
var ErrStatusFilter = fault.Invalid("status_invalid", "status must be one of Pending, Confirmed, Shipped, Delivered, Cancelled, Refunded")

// OrderQueries answers reads of orders: one order, or a page of them.
type OrderQueries struct {
	store UnitOfWork
}

// NewOrderQueries builds the order reads.
func NewOrderQueries(store UnitOfWork) *OrderQueries { return &OrderQueries{store: store} }

// Get returns an order its customer or an admin may see; to anyone else it does not exist.
func (q *OrderQueries) Get(ctx context.Context, actor Actor, id string) (*order.Order, error) {
	if err := actor.Require(RoleCustomer, RoleAdmin); err != nil {
		return nil, err
	}
	return visibleOrder(ctx, q.store, actor, id)
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
