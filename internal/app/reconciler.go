package app

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// ReconcilerConfig says when the reconciler acts.
type ReconcilerConfig struct {
	// After is how long a card order may wait for its webhook before the intent is re-read.
	After time.Duration
	// TTL is how long a card order may stay unpaid before it is cancelled.
	TTL time.Duration
	// Batch is how many awaiting orders one pass looks at (the next ones after the last pass's,
	// from the oldest again once it reached the newest), and how many pending refunds.
	Batch int
}

// Reconciler repairs what lost webhooks and crashes leave behind: it re-reads the intents of card
// orders still Pending after cfg.After (so a paid customer always gets their order), cancels
// those unpaid after cfg.TTL (intent and stock with them), and retries refunds left pending.
// Several replicas may run it at once: every step locks the order and is a no-op when repeated.
type Reconciler struct {
	store     UnitOfWork
	finalizer *PaymentFinalizer
	cancel    *CancelHandler
	refunds   *RefundHandler
	clock     Clock
	cfg       ReconcilerConfig
	log       *slog.Logger
	observe   Observer

	mu sync.Mutex
	// resumeAfter is the cursor after the last awaiting order the previous pass looked at; orders
	// that stay awaiting (declined cards, until their TTL) never keep newer ones from their turn.
	resumeAfter string
}

// NewReconciler builds the reconciler.
func NewReconciler(store UnitOfWork, finalizer *PaymentFinalizer, cancel *CancelHandler, refunds *RefundHandler,
	clock Clock, cfg ReconcilerConfig, log *slog.Logger, observe Observer) *Reconciler {
	if cfg.Batch <= 0 {
		cfg.Batch = 1000
	}
	return &Reconciler{store: store, finalizer: finalizer, cancel: cancel, refunds: refunds, clock: clock, cfg: cfg, log: log,
		observe: observerOrNop(observe)}
}

// ReconcileReport counts what one pass did.
type ReconcileReport struct {
	Checked, Paid, Expired, RefundsRetried int
}

// RunOnce makes one pass. Problems with single orders are logged and do not stop the pass.
func (r *Reconciler) RunOnce(ctx context.Context) (ReconcileReport, error) {
	var rep ReconcileReport
	now := r.clock.Now()
	ids, err := r.nextAwaiting(ctx, now)
	if err != nil {
		return rep, err
	}
	for _, id := range ids {
		rep.Checked++
		r.settle(ctx, id, now, &rep)
	}
	refundIDs, err := r.store.Orders().ListWithPendingRefunds(ctx, now.Add(-time.Minute), r.cfg.Batch)
	if err != nil {
		return rep, err
	}
	for _, id := range refundIDs {
		rep.RefundsRetried++
		r.observe.ReconcilerActed(ReconcilerRefundRetried)
		if err := r.refunds.RetryPending(ctx, id); err != nil {
			r.log.WarnContext(ctx, "pending refund still not settled", "order_id", id, "error", err)
		}
	}
	return rep, nil
}

// nextAwaiting returns the batch of awaiting orders after the previous pass's, and moves the
// cursor on (back to the oldest after the newest).
func (r *Reconciler) nextAwaiting(ctx context.Context, now time.Time) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids, next, err := r.store.Orders().ListAwaitingPayment(ctx,
		AwaitingQuery{PlacedBefore: now.Add(-r.cfg.After), After: r.resumeAfter, Limit: r.cfg.Batch})
	if err != nil {
		r.resumeAfter = "" // a cursor the store refuses must not stop every pass after it
		return nil, err
	}
	r.resumeAfter = next
	return ids, nil
}

func (r *Reconciler) settle(ctx context.Context, id string, now time.Time, rep *ReconcileReport) {
	res, err := r.finalizer.Finalize(ctx, id, order.CauseReconciler)
	if err != nil {
		r.log.WarnContext(ctx, "reconciler could not re-read the payment", "order_id", id, "error", err)
		return
	}
	if res.Outcome == payment.BecamePaid {
		r.observe.ReconcilerActed(ReconcilerPaymentSettled)
	}
	if res.Order.Payment().IsPaid() {
		rep.Paid++
		return
	}
	if now.Sub(res.Order.CreatedAt()) < r.cfg.TTL {
		return
	}
	if _, err := r.cancel.Expire(ctx, id); err != nil {
		r.log.WarnContext(ctx, "reconciler could not expire the order", "order_id", id, "error", err)
		return
	}
	rep.Expired++
	r.observe.ReconcilerActed(ReconcilerOrderExpired)
	r.log.InfoContext(ctx, "unpaid order expired", "order_id", id)
}

// Run makes a pass every interval until ctx ends.
func (r *Reconciler) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if rep, err := r.RunOnce(ctx); err != nil && !errors.Is(err, context.Canceled) {
			r.log.ErrorContext(ctx, "reconciler pass failed", "error", err)
		} else if rep != (ReconcileReport{}) {
			r.log.InfoContext(ctx, "reconciler pass", "checked", rep.Checked, "paid", rep.Paid,
				"expired", rep.Expired, "refunds_retried", rep.RefundsRetried)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
