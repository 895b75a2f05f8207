package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
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
type SandboxIntents struct {
	db      *bun.DB
	dialect Dialect
}

var _ sandbox.IntentStore = (*SandboxIntents)(nil)

// NewSandboxIntents returns the sandbox's intent store over db.
func NewSandboxIntents(db *bun.DB, dialect Dialect) *SandboxIntents {
	return &SandboxIntents{db: db, dialect: dialect}
}

// AddIntent inserts rec unless its payment id has an intent, then reads the one stored.
func (s *SandboxIntents) AddIntent(ctx context.Context, rec sandbox.IntentRecord) (sandbox.IntentRecord, error) {
	row, err := newSandboxIntentRow(rec)
	if err != nil {
		return sandbox.IntentRecord{}, err
	}
	if _, err := insertIfAbsent(ctx, s.db.NewInsert().Model(row), "payment_id"); err != nil {
		return sandbox.IntentRecord{}, fmt.Errorf("add sandbox intent: %w", err)
	}
	stored := new(sandboxIntentRow)
	if err := s.db.NewSelect().Model(stored).Where("si.payment_id = ?", rec.PaymentID).Scan(ctx); err != nil {
		return sandbox.IntentRecord{}, fmt.Errorf("read sandbox intent: %w", err)
	}
	return stored.record()
}

// Intent reads one intent.
func (s *SandboxIntents) Intent(ctx context.Context, id string) (sandbox.IntentRecord, error) {
	row, err := s.read(ctx, s.db, id, false)
	if err != nil {
		return sandbox.IntentRecord{}, err
	}
	return row.record()
}

// UpdateIntent changes one intent in a transaction that holds its row (Postgres: SELECT … FOR
// UPDATE; SQLite: the IMMEDIATE transaction's write lock), so concurrent updates from any replica
// apply one after the other.
func (s *SandboxIntents) UpdateIntent(ctx context.Context, id string, change func(*sandbox.IntentRecord) error) (sandbox.IntentRecord, error) {
	var rec sandbox.IntentRecord
	err := runInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		row, err := s.read(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if rec, err = row.record(); err != nil {
			return err
		}
		if err := change(&rec); err != nil {
			return err
		}
		changed, err := newSandboxIntentRow(rec)
		if err != nil {
			return err
		}
		_, err = tx.NewUpdate().Model(changed).Column("state", "updated_at").WherePK().Exec(ctx)
		if err != nil {
			return fmt.Errorf("update sandbox intent: %w", err)
		}
		return nil
	})
	return rec, err
}

func (s *SandboxIntents) read(ctx context.Context, db bun.IDB, id string, lock bool) (*sandboxIntentRow, error) {
	row := new(sandboxIntentRow)
	q := db.NewSelect().Model(row).Where("si.id = ?", id)
	if lock && s.dialect == Postgres {
		q = q.For("UPDATE")
	}
	err := q.Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sandbox intent %q: %w", id, sandbox.ErrNoIntent)
	}
	if err != nil {
		return nil, fmt.Errorf("read sandbox intent: %w", err)
	}
	return row, nil
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
