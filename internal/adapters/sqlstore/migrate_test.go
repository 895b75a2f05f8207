package sqlstore

import (
	"context"
	"slices"
	"testing"
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
