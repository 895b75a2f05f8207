// Package app owns the use cases of the orders and payments service (placing orders, confirming
// payments, managing the catalog), the unit of work they run in (which writes the integration
// events the aggregates' changes imply), the reactions to those events (notify, fulfil), and the
// ports they need from the outside world: storage with transactions, the transactional outbox, the
// payment providers with their webhook verifiers, the notifier. It imports the domain and its own
// event contract (app/events) and nothing of any adapter; adapters implement these interfaces and
// prove it with the suites of app/porttest.
package app

import (
	"context"
	"time"

	"github.com/wolfix/orders/internal/app/events"
	"github.com/wolfix/orders/internal/domain/catalog"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// Store is the storage port: repositories that run each call on its own, and transactions.
// Use cases never see it directly; they run in the UnitOfWork built over it.
type Store interface {
	Repositories
	// InTx runs fn in one database transaction and commits when fn returns nil; any error, panic
	// or failed commit rolls everything back (a ctx that ended before the commit fails it) and is
	// returned. The StoreTx is valid only inside fn. Every Store passes porttest.RunStore.
	InTx(ctx context.Context, fn func(ctx context.Context, tx StoreTx) error) error
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
}

// Repositories are the stores of the service's aggregates.
type Repositories interface {
	Products() ProductRepository
	Orders() OrderRepository
	Webhooks() WebhookInbox
	Idempotency() IdempotencyStore
}

// StoreTx is one open transaction of the Store: repositories plus the outbox, all committed
// together. Only the unit of work writes to the outbox.
type StoreTx interface {
	Repositories
	// Outbox publishes integration events that become visible to the relay only if the
	// transaction commits.
	Outbox() Outbox
}

// Tx is one open transaction as a use case sees it: the repositories. The events its changes
// imply are written by the unit of work (see UnitOfWork), never by the use case.
type Tx interface {
	Repositories
}

// ProductRepository stores products. Stock only changes through Reserve and Release, which are
// conditional updates and never take stock below zero.
type ProductRepository interface {
	// Get returns catalog.ErrNotFound when there is no such product.
	Get(ctx context.Context, id string) (*catalog.Product, error)
	// GetMany returns the products that exist among ids, keyed by id.
	GetMany(ctx context.Context, ids []string) (map[string]*catalog.Product, error)
	// List returns up to q.Limit products after the cursor q.After, and the cursor of the next page
	// ("" when there is none). Order is stable: by id.
	List(ctx context.Context, q ProductQuery) ([]*catalog.Product, string, error)
	Add(ctx context.Context, p *catalog.Product) error
	// Update locks the product, lets fn change it, and saves it unless fn fails.
	Update(ctx context.Context, id string, fn func(p *catalog.Product) error) (*catalog.Product, error)
	// Reserve takes each line's units (each quantity > 0, else it fails), one product after the
	// other in ascending product id order, so that concurrent reservations never deadlock. It
	// returns catalog.ErrOutOfStock, or catalog.ErrNotFound, naming the first product that cannot
	// be served; lines taken before that stay taken until the caller's transaction rolls back.
	Reserve(ctx context.Context, lines ...StockLine) error
	// Release gives qty units back.
	Release(ctx context.Context, id string, qty int64) error
	// Count returns how many products exist.
	Count(ctx context.Context) (int, error)
}

// ProductQuery selects a page of products.
type ProductQuery struct {
	After string
	Limit int
}

// OrderRepository stores orders with their items, payment and timeline.
type OrderRepository interface {
	// Add stores a new order and the changes it recorded. It fails for an id already stored, and
	// for an intent that already pays another order (one intent pays one order).
	Add(ctx context.Context, o *order.Order) error
	// Get returns order.ErrNotFound when there is no such order.
	Get(ctx context.Context, id string) (*order.Order, error)
	// Glance returns whose the order is, its version and where its payment stands, without
	// reading it whole; order.ErrNotFound when there is no such order.
	Glance(ctx context.Context, id string) (OrderGlance, error)
	// Update locks the order, lets fn change it, and stores it with its new timeline entries
	// unless fn fails. Concurrent updates of one order are serialized.
	Update(ctx context.Context, id string, fn func(o *order.Order) error) (*order.Order, error)
	// FindIDByIntent returns the id of the order paid by the provider intent, or order.ErrNotFound.
	FindIDByIntent(ctx context.Context, intentID string) (string, error)
	// List returns up to q.Limit orders, newest first, after the cursor q.After, and the next cursor.
	List(ctx context.Context, q OrderQuery) ([]*order.Order, string, error)
	// ListAwaitingPayment returns ids of up to q.Limit card orders still Pending that were placed
	// before q.PlacedBefore, oldest first, after the cursor q.After, and the cursor of the next
	// page ("" when there is none).
	ListAwaitingPayment(ctx context.Context, q AwaitingQuery) ([]string, string, error)
	// ListWithPendingRefunds returns ids of orders with a refund pending since before
	// requestedBefore, at most limit.
	ListWithPendingRefunds(ctx context.Context, requestedBefore time.Time, limit int) ([]string, error)
	// UnpaidCardHolding returns what customerID holds without paying: card orders still Pending
	// and the units they reserve.
	UnpaidCardHolding(ctx context.Context, customerID string) (UnpaidHolding, error)
	// AdmitUnpaid fails with limit.Refusal's error when the card order o would take its customer's
	// holding (UnpaidCardHolding, o itself left out) past limit. Inside a transaction it
	// serializes the customer's checkouts until the commit, so two concurrent checkouts cannot
	// both pass the cap; a store may check with the commit, which the refusal then fails.
	AdmitUnpaid(ctx context.Context, o *order.Order, limit UnpaidCap) error
}

// OrderGlance is what a check of an order needs of it: whose it is, its version (every stored
// change bumps it), its payment's method and status, and the provider and intent that settle a
// card payment (empty for cash).
type OrderGlance struct {
	CustomerID      string
	Version         int64
	PaymentMethod   payment.Method
	PaymentStatus   payment.Status
	PaymentProvider string
	IntentID        string
}

// IsVisibleTo is order.Order's IsVisibleTo for the order glanced at.
func (g OrderGlance) IsVisibleTo(userID string, isAdmin bool) bool {
	return order.VisibleTo(g.CustomerID, userID, isAdmin)
}

// AwaitingQuery selects a page of card orders awaiting payment.
type AwaitingQuery struct {
	PlacedBefore time.Time
	After        string
	Limit        int
}

// UnpaidHolding is the stock a customer holds with card orders not yet paid.
type UnpaidHolding struct {
	Orders int
	Units  int64
}

// OrderQuery selects a page of orders; empty fields do not filter.
type OrderQuery struct {
	CustomerID string
	Status     order.Status
	After      string
	Limit      int
}

// Event is an integration event: a fact the rest of the company may act on. Its contract (topics,
// envelope, data, version) is package events; Type doubles as the broker topic.
type Event = events.Event

// Outbox writes integration events inside the current transaction.
type Outbox interface {
	Publish(ctx context.Context, events ...Event) error
}

// WebhookInbox remembers every provider event by its id so each acts exactly once. An event is
// recorded on receipt, which is all the webhook request waits for; it is then leased by one worker
// (of any replica) at a time and claimed inside the transaction of its effect, so the claim and the
// effect commit together or not at all. An event whose worker died is leased again once the lease
// runs out; a failed event waits until its retry time the same way.
type WebhookInbox interface {
	// Record stores e's event, received at e.ReceivedAt, unless an event with its id is already
	// stored; it reports whether the event is new. A set e.LockedUntil records it leased until then
	// to the recorder, which processes it at once; a zero one leaves it due for any Lease.
	Record(ctx context.Context, e InboxEntry) (bool, error)
	// Claim marks a recorded, unprocessed event as processed and reports true; it reports false
	// when the event was processed already. Concurrent claims of one event: exactly one wins.
	Claim(ctx context.Context, eventID string, at time.Time) (bool, error)
	// Lease takes up to limit unprocessed events that are due at now (never leased, or their lease
	// or retry time passed), oldest first, and holds them until until. Concurrent leases never
	// return the same event.
	Lease(ctx context.Context, now, until time.Time, limit int) ([]InboxEntry, error)
	// Fail notes why processing failed and counts the attempt; the event stays unprocessed and is
	// due again at retryAt. An event never recorded is ErrInboxEventNotFound.
	Fail(ctx context.Context, eventID string, problem string, retryAt time.Time) error
	// List returns up to q.Limit events in state q.Status (all when empty), oldest first, after the
	// cursor q.After, and the cursor of the next page ("" when there is none).
	List(ctx context.Context, q InboxQuery) ([]InboxEntry, string, error)
	// Get returns one recorded event, or ErrInboxEventNotFound.
	Get(ctx context.Context, eventID string) (InboxEntry, error)
}

// InboxStatus is where a recorded provider event stands.
type InboxStatus string

// The states of an inbox event: pending until a worker processes it, failed after an attempt
// that did not succeed (it is retried), processed once its effect committed.
const (
	InboxPending   InboxStatus = "pending"
	InboxFailed    InboxStatus = "failed"
	InboxProcessed InboxStatus = "processed"
)

// InboxQuery selects a page of inbox events; an empty Status lists all.
type InboxQuery struct {
	Status InboxStatus
	After  string
	Limit  int
}

// InboxEntry is a recorded provider event with its processing state.
type InboxEntry struct {
	Event       payment.Event
	ReceivedAt  time.Time
	ProcessedAt time.Time // zero while unprocessed
	Problem     string
	Attempts    int
	// LockedUntil is the end of the current lease or the retry time of a failed event; zero when
	// the event is due at once (or processed).
	LockedUntil time.Time
}

// Status tells where the event stands.
func (e InboxEntry) Status() InboxStatus {
	switch {
	case !e.ProcessedAt.IsZero():
		return InboxProcessed
	case e.Problem != "":
		return InboxFailed
	}
	return InboxPending
}

// IdempotencyStore keeps Idempotency-Key claims and the answers kept for them (see
// IdempotencyClaim). A claim holds its key for a lease and a fencing token: a retry that finds the
// lease run out without an answer takes the key over with a new token, and an answer is kept only
// under the token that holds the key, so two runs of one request can never both commit.
type IdempotencyStore interface {
	// Claim takes (scope, key) for a request whose body hashes to requestHash, until now+lease, to
	// expire (with its answer) at expiresAt. The record has Claimed set and a fresh Token when the
	// key was free or its lease ran out without an answer; otherwise it is the record as stored.
	Claim(ctx context.Context, req IdempotencyRequest) (IdempotencyRecord, error)
	// Hold checks, first thing in a transaction of the claimed request, that the claim holding
	// token still holds the key, and keeps a retry from taking it over until that transaction
	// ends. It fails with ErrIdempotencyClaimLost when another request took the key over.
	Hold(ctx context.Context, scope, key string, token int64) error
	// Keep stores the answer of the claim holding token. It fails with ErrIdempotencyClaimLost when
	// another request took the key over; inside a transaction that means roll back.
	Keep(ctx context.Context, scope, key string, token int64, answer Answer) error
	// Release gives up the claim holding token without an answer, so that a retry runs afresh
	// (the request changed nothing). A kept answer is never released.
	Release(ctx context.Context, scope, key string, token int64) error
	// PruneExpired deletes up to batch keys (with their answers) that expired before before, and
	// reports how many it deleted; call it again until it reports fewer than batch.
	PruneExpired(ctx context.Context, before time.Time, batch int) (int, error)
}

// IdempotencyRequest asks to claim an Idempotency-Key.
type IdempotencyRequest struct {
	Scope, Key, RequestHash string
	Now                     time.Time
	Lease                   time.Duration
	ExpiresAt               time.Time
}

// IdempotencyRecord is a stored Idempotency-Key claim.
type IdempotencyRecord struct {
	RequestHash string
	// Claimed is true when this call claimed the key; Token then fences its answer.
	Claimed bool
	Token   int64
	// ClaimedAt is when the key was first claimed (a takeover keeps it).
	ClaimedAt time.Time
	// Done is true once an answer is kept; Answer is it.
	Done   bool
	Answer Answer
	// LockedUntil is when the current claim's lease runs out (while not Done).
	LockedUntil time.Time
}

// PaymentGateway is the payment provider (Stripe, the sandbox, …). Every adapter passes
// porttest.RunGateway. Errors are *fault.Error: ErrProviderUnavailable (and wrapped
// variants) when retrying may help, ErrProviderRejected otherwise, ErrIntentNotFound.
type PaymentGateway interface {
	// Provider names the provider, e.g. "stripe" or "sandbox".
	Provider() string
	// CreateIntent starts collecting req.Amount. The same req.PaymentID always yields the same
	// intent (it is the provider's idempotency key), so retries never charge twice.
	CreateIntent(ctx context.Context, req IntentRequest) (payment.Intent, error)
	// GetIntent reads the intent's current state from the provider.
	GetIntent(ctx context.Context, intentID string) (payment.Intent, error)
	// CancelIntent cancels an intent that has not succeeded.
	CancelIntent(ctx context.Context, intentID string) (payment.Intent, error)
	// Refund returns req.Amount of a succeeded intent; req.RefundID is the idempotency key.
	Refund(ctx context.Context, req RefundRequest) (RefundResult, error)
}

// IntentRequest asks the provider for a new payment intent.
type IntentRequest struct {
	PaymentID    string
	OrderID      string
	Amount       money.Money
	ReceiptEmail string
	Description  string
}

// RefundRequest asks the provider to return money.
type RefundRequest struct {
	RefundID string
	IntentID string
	Amount   money.Money
	Reason   string
}

// RefundResult is the provider's answer to a refund.
type RefundResult struct {
	ID     string
	Status string
	Amount int64
}

// Clock tells the time; tests use a fixed one.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock, in UTC, to the microsecond: as fine as both databases store a
// time, so an order as a use case left it is exactly the order a read returns (see storedForm).
type SystemClock struct{}

// Now returns the current UTC time, to the microsecond.
func (SystemClock) Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
