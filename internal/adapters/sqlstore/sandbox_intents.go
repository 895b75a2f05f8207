package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/wolfix/orders/internal/adapters/sandbox"
)

type sandboxIntentRow struct {
	bun.BaseModel `bun:"table:sandbox_intents,alias:si"`

	ID        string    `bun:"id,pk"`
	PaymentID string    `bun:"payment_id"`
	State     string    `bun:"state"`
	CreatedAt time.Time `bun:"created_at"`
	UpdatedAt time.Time `bun:"updated_at"`
}

// SandboxIntents is sandbox.IntentStore in the service's database, so that every replica of the
// service sees the payment sandbox's intents. Each intent is one row; its state is the sandbox's
// JSON record.
//
// It remembers the state it last wrote or read of recent intents (lastSeen), so that an update of
// an intent nobody else changed since (a confirmation of the intent this process just opened) is
// one compare-and-swap with no read first. Reads never use it: Intent always asks the database.
type SandboxIntents struct {
	db       *bun.DB
	lastSeen *recentStates
}

var _ sandbox.IntentStore = (*SandboxIntents)(nil)

// NewSandboxIntents returns the sandbox's intent store over db.
func NewSandboxIntents(db *bun.DB) *SandboxIntents {
	return &SandboxIntents{db: db, lastSeen: newRecentStates(recentIntents)}
}

// AddIntent inserts rec unless its payment id has an intent; only then does it read the one
// stored (a retried request's), so a new intent is one round trip.
func (s *SandboxIntents) AddIntent(ctx context.Context, rec sandbox.IntentRecord) (sandbox.IntentRecord, error) {
	row, err := newSandboxIntentRow(rec)
	if err != nil {
		return sandbox.IntentRecord{}, err
	}
	inserted, err := insertIfAbsent(ctx, s.db, row, "payment_id")
	if err != nil {
		return sandbox.IntentRecord{}, fmt.Errorf("add sandbox intent: %w", err)
	}
	if inserted {
		s.lastSeen.put(row.ID, row.State)
		return rec, nil
	}
	stored := new(sandboxIntentRow)
	if err := s.db.NewSelect().Model(stored).Where("si.payment_id = ?", rec.PaymentID).Scan(ctx); err != nil {
		return sandbox.IntentRecord{}, fmt.Errorf("read sandbox intent: %w", err)
	}
	s.lastSeen.put(stored.ID, stored.State)
	return stored.record()
}

// Intent reads one intent.
func (s *SandboxIntents) Intent(ctx context.Context, id string) (sandbox.IntentRecord, error) {
	row, err := s.read(ctx, s.db, id)
	if err != nil {
		return sandbox.IntentRecord{}, err
	}
	return row.record()
}

// maxIntentUpdateTries bounds UpdateIntent's retries when other updates of the same intent keep
// winning; each try is two round trips.
const maxIntentUpdateTries = 16

// errIntentContended reports an intent that other updates kept changing under UpdateIntent.
var errIntentContended = errors.New("sandbox intent kept changing under the update")

// UpdateIntent changes one intent by compare-and-swap: it lets change edit the record and stores
// the result only if the row still holds the state change started from (the state is the whole
// record, so equal text means nothing changed in between); otherwise it reads the row and tries
// again. The first try starts from the state this process last saw of the intent, when it has one
// (one round trip when nobody changed it since), the others from a fresh read (two). Concurrent
// updates from any replica thus apply one after the other, as with a row lock, and no transaction.
// change may run more than once.
func (s *SandboxIntents) UpdateIntent(ctx context.Context, id string, change func(*sandbox.IntentRecord) error) (sandbox.IntentRecord, error) {
	from, known := s.lastSeen.get(id)
	for range maxIntentUpdateTries {
		if !known {
			row, err := s.read(ctx, s.db, id)
			if err != nil {
				return sandbox.IntentRecord{}, err
			}
			from = row.State
		}
		rec, stored, err := s.trySwap(ctx, id, from, change)
		if err != nil || stored {
			return rec, err
		}
		known = false
	}
	return sandbox.IntentRecord{}, fmt.Errorf("update sandbox intent %q: %w", id, errIntentContended)
}

// trySwap is one change-and-swap from the state from; stored is false when the row no longer
// holds it.
func (s *SandboxIntents) trySwap(ctx context.Context, id, from string, change func(*sandbox.IntentRecord) error) (
	rec sandbox.IntentRecord, stored bool, err error) {
	if rec, err = (&sandboxIntentRow{ID: id, State: from}).record(); err != nil {
		return rec, false, err
	}
	if err := change(&rec); err != nil {
		return rec, false, err
	}
	changed, err := newSandboxIntentRow(rec)
	if err != nil {
		return rec, false, err
	}
	res, err := s.db.NewUpdate().Model(changed).Column("state", "updated_at").WherePK().
		Where("si.state = ?", from).Exec(ctx)
	if err != nil {
		return rec, false, fmt.Errorf("update sandbox intent: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return rec, false, fmt.Errorf("update sandbox intent: %w", err)
	}
	if n == 1 {
		s.lastSeen.put(id, changed.State)
	}
	return rec, n == 1, nil
}

func (s *SandboxIntents) read(ctx context.Context, db bun.IDB, id string) (*sandboxIntentRow, error) {
	row := new(sandboxIntentRow)
	err := db.NewSelect().Model(row).Where("si.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sandbox intent %q: %w", id, sandbox.ErrNoIntent)
	}
	if err != nil {
		return nil, fmt.Errorf("read sandbox intent: %w", err)
	}
	s.lastSeen.put(row.ID, row.State)
	return row, nil
}

// recentIntents is how many intents' states SandboxIntents remembers: far more than are opened
// and confirmed within a few seconds under load.
const recentIntents = 4096

// recentStates remembers the last state seen of at most max intents, forgetting the oldest first.
// A remembered state may be stale (another replica changed the intent); it is only ever the
// expected value of a compare-and-swap.
type recentStates struct {
	mu     sync.Mutex
	max    int
	states map[string]string
	order  []string // ids, oldest first
}

func newRecentStates(max int) *recentStates {
	return &recentStates{max: max, states: make(map[string]string, max)}
}

func (r *recentStates) get(id string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	state, ok := r.states[id]
	return state, ok
}

func (r *recentStates) put(id, state string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.states[id]; !ok {
		if len(r.order) == r.max {
			delete(r.states, r.order[0])
			r.order = r.order[1:]
		}
		r.order = append(r.order, id)
	}
	r.states[id] = state
}

func newSandboxIntentRow(rec sandbox.IntentRecord) (*sandboxIntentRow, error) {
	state, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode sandbox intent: %w", err)
	}
	return &sandboxIntentRow{ID: rec.ID, PaymentID: rec.PaymentID, State: string(state),
		CreatedAt: rec.Created.UTC(), UpdatedAt: time.Now().UTC()}, nil
}

func (r *sandboxIntentRow) record() (sandbox.IntentRecord, error) {
	var rec sandbox.IntentRecord
	if err := json.Unmarshal([]byte(r.State), &rec); err != nil {
		return sandbox.IntentRecord{}, fmt.Errorf("decode sandbox intent %s: %w", r.ID, err)
	}
	return rec, nil
}
