package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"

	"github.com/wolfix/orders/migrations"
)

// migrationLockKey names the Postgres advisory lock that keeps two replicas from migrating at
// once ("wolfix" in ASCII). A session lock dies with its connection, so a crashed migrator never
// leaves the database locked, unlike bun's lock table.
const migrationLockKey int64 = 0x776f6c666978

// MigrationState is one migration and whether the database has it.
type MigrationState struct {
	Name       string
	Applied    bool
	GroupID    int64
	MigratedAt time.Time
}

// Migrate applies every migration the database lacks, as one group, and returns their names. A
// database that has them all, as on every restart, is told so by one read, without the lock.
func Migrate(ctx context.Context, db *bun.DB, dialect Dialect) ([]string, error) {
	if upToDate(ctx, db, dialect) {
		return nil, nil
	}
	var applied []string
	err := withMigrator(ctx, db, dialect, func(m *migrate.Migrator) error {
		group, err := m.Migrate(ctx)
		applied = names(group)
		return err
	})
	if err != nil {
		return applied, fmt.Errorf("migrate up: %w", err)
	}
	return applied, nil
}

// Rollback reverts the last group of applied migrations and returns their names.
func Rollback(ctx context.Context, db *bun.DB, dialect Dialect) ([]string, error) {
	var reverted []string
	err := withMigrator(ctx, db, dialect, func(m *migrate.Migrator) error {
		group, err := m.Rollback(ctx)
		reverted = names(group)
		return err
	})
	if err != nil {
		return reverted, fmt.Errorf("migrate down: %w", err)
	}
	return reverted, nil
}

// Status lists every known migration, oldest first, with whether it is applied.
func Status(ctx context.Context, db *bun.DB, dialect Dialect) ([]MigrationState, error) {
	var states []MigrationState
	err := withMigrator(ctx, db, dialect, func(m *migrate.Migrator) error {
		all, err := m.MigrationsWithStatus(ctx)
		for _, mig := range all {
			states = append(states, MigrationState{Name: mig.String(), Applied: mig.IsApplied(),
				GroupID: mig.GroupID, MigratedAt: mig.MigratedAt})
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("migrate status: %w", err)
	}
	return states, nil
}

// withMigrator prepares bun's migrator for the dialect's embedded files and runs fn while holding
// the migration lock. Migrations are marked applied only after they succeed; each SQL file runs in
// its own transaction (.tx.up.sql), so a failed migration leaves nothing behind and can be retried.
func withMigrator(ctx context.Context, db *bun.DB, dialect Dialect, fn func(*migrate.Migrator) error) error {
	m, err := newMigrator(db, dialect)
	if err != nil {
		return err
	}
	unlock, err := lockMigrations(ctx, db, dialect)
	if err != nil {
		return err
	}
	defer unlock()
	if err := m.Init(ctx); err != nil {
		return fmt.Errorf("create migration tables: %w", err)
	}
	return fn(m)
}

// upToDate reports whether the database has applied every embedded migration, from one read of
// bun's table, with no lock and no second connection. A migration is marked applied only once it
// has succeeded, so one missing or still running elsewhere says no, and so does any error (a new
// database has no table yet): the caller then migrates under the lock.
func upToDate(ctx context.Context, db *bun.DB, dialect Dialect) bool {
	m, err := newMigrator(db, dialect)
	if err != nil {
		return false
	}
	all, err := m.MigrationsWithStatus(ctx)
	return err == nil && len(all.Unapplied()) == 0
}

// newMigrator is bun's migrator over the dialect's embedded files.
func newMigrator(db *bun.DB, dialect Dialect) (*migrate.Migrator, error) {
	files, err := migrationFiles(dialect)
	if err != nil {
		return nil, err
	}
	set := migrate.NewMigrations()
	if err := set.Discover(files); err != nil {
		return nil, fmt.Errorf("discover migrations: %w", err)
	}
	return migrate.NewMigrator(db, set, migrate.WithMarkAppliedOnSuccess(true)), nil
}

func migrationFiles(dialect Dialect) (fs.FS, error) {
	switch dialect {
	case Postgres:
		return migrations.Postgres(), nil
	case SQLite:
		return migrations.SQLite(), nil
	}
	return nil, fmt.Errorf("no migrations for dialect %q", dialect)
}

// lockMigrations takes Postgres's advisory lock on a connection of its own. SQLite needs none:
// its file has one host, and each migration's IMMEDIATE transaction already excludes other writers.
func lockMigrations(ctx context.Context, db *bun.DB, dialect Dialect) (unlock func(), err error) {
	if dialect != Postgres {
		return func() {}, nil
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock migrations: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", migrationLockKey); err != nil {
		return nil, errors.Join(fmt.Errorf("lock migrations: %w", err), conn.Close())
	}
	return func() {
		// A failed unlock means a broken session, and the lock ends with it.
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", migrationLockKey)
		_ = conn.Close()
	}, nil
}

func names(group *migrate.MigrationGroup) []string {
	if group == nil {
		return nil
	}
	out := make([]string, 0, len(group.Migrations))
	for _, m := range group.Migrations {
		out = append(out, m.String())
	}
	return out
}
