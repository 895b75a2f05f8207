package sqlstore

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/testenv"
)

const coreMigration = "20261124000100_core"

func TestMigrations_SQLiteAndPostgres(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		states, err := Status(ctx, tdb.db, tdb.dialect)
		if err != nil {
			t.Fatalf("status: %v", err)
		}
		if i := slices.IndexFunc(states, func(s MigrationState) bool { return s.Name == coreMigration }); i < 0 || !states[i].Applied {
			t.Fatalf("status = %+v; want %s applied", states, coreMigration)
		}
		if again, err := Migrate(ctx, tdb.db, tdb.dialect); err != nil || len(again) != 0 {
			t.Fatalf("second migrate = %v, %v; want nothing to do", again, err)
		}

		reverted, err := Rollback(ctx, tdb.db, tdb.dialect)
		if err != nil || !slices.Contains(reverted, coreMigration) {
			t.Fatalf("rollback = %v, %v; want %s reverted", reverted, err, coreMigration)
		}
		if _, err := tdb.store.Products().Count(ctx); err == nil {
			t.Fatal("products table survived the rollback")
		}

		applied, err := Migrate(ctx, tdb.db, tdb.dialect)
		if err != nil || !slices.Contains(applied, coreMigration) {
			t.Fatalf("migrate after rollback = %v, %v; want %s applied", applied, err, coreMigration)
		}
		if n, err := tdb.store.Products().Count(ctx); err != nil || n != 0 {
			t.Fatalf("count after re-migrating = %d, %v; want 0, nil", n, err)
		}
	})
}

// A restart finds every migration applied: it must learn so without the migration lock, which
// costs a connection of its own and waits behind a replica that is migrating. A database that
// lacks a migration still migrates, under the lock.
func TestMigrateOnAnUpToDateDatabaseTakesNoLock_Postgres(t *testing.T) {
	tdb := openTestDB(t, testenv.PostgresURL(t))
	ctx := t.Context()
	holder, err := tdb.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = holder.Close() }()
	if _, err := holder.ExecContext(ctx, "SELECT pg_advisory_lock(?)", migrationLockKey); err != nil {
		t.Fatal(err)
	}

	quick, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if applied, err := Migrate(quick, tdb.db, tdb.dialect); err != nil || len(applied) != 0 {
		t.Fatalf("migrate an up-to-date database while another holds the lock = %v, %v; want nothing to do at once", applied, err)
	}

	if _, err := holder.ExecContext(ctx, "SELECT pg_advisory_unlock(?)", migrationLockKey); err != nil {
		t.Fatal(err)
	}
	if _, err := Rollback(ctx, tdb.db, tdb.dialect); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if _, err := holder.ExecContext(ctx, "SELECT pg_advisory_lock(?)", migrationLockKey); err != nil {
		t.Fatal(err)
	}
	waiting, cancelWaiting := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelWaiting()
	if _, err := Migrate(waiting, tdb.db, tdb.dialect); err == nil {
		t.Fatal("a database lacking a migration was migrated without the lock")
	}
	if _, err := holder.ExecContext(ctx, "SELECT pg_advisory_unlock(?)", migrationLockKey); err != nil {
		t.Fatal(err)
	}
	if applied, err := Migrate(ctx, tdb.db, tdb.dialect); err != nil || len(applied) == 0 {
		t.Fatalf("migrate after the lock is free = %v, %v; want the rolled-back migrations applied", applied, err)
	}
}
