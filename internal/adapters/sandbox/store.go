package sandbox

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/wolfix/orders/internal/domain/payment"
)

// IntentStore keeps the sandbox's intents. Without one the sandbox keeps them in memory, for one
// process; the storage adapter keeps them in the service's database, so that every replica sees
// (and may confirm) every intent and they survive restarts.
type IntentStore interface {
	// AddIntent stores rec unless an intent with its PaymentID is stored already, and returns the
	// stored one: rec, or the intent created first for that payment.
	AddIntent(ctx context.Context, rec IntentRecord) (IntentRecord, error)
	// Intent returns the stored intent, or an error wrapping ErrNoIntent.
	Intent(ctx context.Context, id string) (IntentRecord, error)
	// UpdateIntent reads the intent, lets change edit it and stores the result, as one step that
	// no other update of the same intent (in any process) interleaves with. When change fails,
	// nothing is stored and its error is returned; an unknown id wraps ErrNoIntent. change may run
	// more than once, each time on the freshest record (a store may retry when another update won).
	UpdateIntent(ctx context.Context, id string, change func(*IntentRecord) error) (IntentRecord, error)
}

// ErrNoIntent is wrapped by an IntentStore's answer for an id it does not hold.
var ErrNoIntent = errors.New("sandbox: no such intent")

// IntentRecord is the stored form of an intent (the database adapter keeps it as JSON). It holds
// the sandbox's client secret, which only ever pays with test cards, and never a card number.
type IntentRecord struct {
	ID           string                  `json:"id"`
	ClientSecret string                  `json:"clientSecret"`
	PaymentID    string                  `json:"paymentId"`
	OrderID      string                  `json:"orderId"`
	Amount       int64                   `json:"amount"`
	Currency     string                  `json:"currency"`
	Status       payment.IntentStatus    `json:"status"`
	Created      time.Time               `json:"created"`
	ChargeID     string                  `json:"chargeId,omitempty"`
	LastError    *FailureRecord          `json:"lastError,omitempty"`
	Refunded     int64                   `json:"refunded"`
	Refunds      map[string]RefundRecord `json:"refunds,omitempty"`
}

// FailureRecord is the stored form of the last failed card attempt.
type FailureRecord struct {
	Code, DeclineCode, Reason, Message string
}

// RefundRecord is the stored form of one refund, kept under the caller's RefundID.
type RefundRecord struct {
	ID        string `json:"id"`
	Requested int64  `json:"requested"`
	Amount    int64  `json:"amount"`
}

// memoryStore is the IntentStore of one process. It hands out copies, so callers never share a
// record's refunds with the store.
type memoryStore struct {
	mu          sync.Mutex
	intents     map[string]IntentRecord // by intent id
	byPaymentID map[string]string       // payment id → intent id
}

func newMemoryStore() *memoryStore {
	return &memoryStore{intents: map[string]IntentRecord{}, byPaymentID: map[string]string{}}
}

func (m *memoryStore) AddIntent(_ context.Context, rec IntentRecord) (IntentRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id, ok := m.byPaymentID[rec.PaymentID]; ok {
		return m.intents[id].clone(), nil
	}
	m.intents[rec.ID] = rec.clone()
	m.byPaymentID[rec.PaymentID] = rec.ID
	return rec, nil
}

func (m *memoryStore) Intent(_ context.Context, id string) (IntentRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, ok := m.intents[id]
	if !ok {
		return IntentRecord{}, ErrNoIntent
	}
	return rec.clone(), nil
}

func (m *memoryStore) UpdateIntent(_ context.Context, id string, change func(*IntentRecord) error) (IntentRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	stored, ok := m.intents[id]
	if !ok {
		return IntentRecord{}, ErrNoIntent
	}
	rec := stored.clone()
	if err := change(&rec); err != nil {
		return IntentRecord{}, err
	}
	m.intents[id] = rec.clone()
	return rec, nil
}

func (r IntentRecord) clone() IntentRecord {
	refunds := make(map[string]RefundRecord, len(r.Refunds))
	for key, rf := range r.Refunds {
		refunds[key] = rf
	}
	r.Refunds = refunds
	if r.LastError != nil {
		e := *r.LastError
		r.LastError = &e
	}
	return r
}
