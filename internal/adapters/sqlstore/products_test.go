package sqlstore

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/catalog"
)

func TestProductRepository_SQLiteAndPostgres(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		repo := tdb.store.Products()

		t.Run("every field survives a round trip", func(t *testing.T) {
			want := addProduct(t, tdb, "p-round", 42)
			got, err := repo.Get(ctx, "p-round")
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v; want %+v", got, want)
			}
		})

		t.Run("missing products are not found", func(t *testing.T) {
			if _, err := repo.Get(ctx, "nope"); !errors.Is(err, catalog.ErrNotFound) {
				t.Errorf("Get: got %v; want ErrNotFound", err)
			}
			_, err := repo.Update(ctx, "nope", func(*catalog.Product) error { return nil })
			if !errors.Is(err, catalog.ErrNotFound) {
				t.Errorf("Update: got %v; want ErrNotFound", err)
			}
			if err := repo.Reserve(ctx, "nope", 1); !errors.Is(err, catalog.ErrNotFound) {
				t.Errorf("Reserve: got %v; want ErrNotFound", err)
			}
			if err := repo.Release(ctx, "nope", 1); !errors.Is(err, catalog.ErrNotFound) {
				t.Errorf("Release: got %v; want ErrNotFound", err)
			}
		})

		t.Run("GetMany returns only the products that exist", func(t *testing.T) {
			addProduct(t, tdb, "p-many-1", 1)
			addProduct(t, tdb, "p-many-2", 2)
			got, err := repo.GetMany(ctx, []string{"p-many-1", "p-many-2", "nope"})
			if err != nil {
				t.Fatalf("get many: %v", err)
			}
			if len(got) != 2 || got["p-many-1"].Stock() != 1 || got["p-many-2"].Stock() != 2 {
				t.Errorf("got %v; want p-many-1 and p-many-2", got)
			}
			if none, err := repo.GetMany(ctx, nil); err != nil || len(none) != 0 {
				t.Errorf("GetMany(nil) = %v, %v; want empty", none, err)
			}
		})

		t.Run("Update saves what fn changed and nothing when fn fails", func(t *testing.T) {
			addProduct(t, tdb, "p-upd", 5)
			title, stock, later := "Renamed", int64(9), t0.Add(time.Hour)
			updated, err := repo.Update(ctx, "p-upd", func(p *catalog.Product) error {
				return p.Apply(catalog.Patch{Title: &title, Stock: &stock}, later)
			})
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			stored, err := repo.Get(ctx, "p-upd")
			if err != nil || !reflect.DeepEqual(stored, updated) || stored.Title() != title || stored.Stock() != stock {
				t.Fatalf("stored %+v, %v; want %+v", stored, err, updated)
			}
			boom := errors.New("boom")
			_, err = repo.Update(ctx, "p-upd", func(p *catalog.Product) error {
				_ = p.Apply(catalog.Patch{Title: new("Lost")}, later)
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("update with failing fn: got %v; want boom", err)
			}
			if again, _ := repo.Get(ctx, "p-upd"); again.Title() != title {
				t.Errorf("title = %q after a failed update; want %q", again.Title(), title)
			}
		})

		t.Run("Reserve and Release move stock but never below zero", func(t *testing.T) {
			addProduct(t, tdb, "p-stock", 3)
			steps := []struct {
				name    string
				do      func() error
				wantErr error
				stock   int64
			}{
				{"reserve 2", func() error { return repo.Reserve(ctx, "p-stock", 2) }, nil, 1},
				{"reserve 2 of 1", func() error { return repo.Reserve(ctx, "p-stock", 2) }, catalog.ErrOutOfStock, 1},
				{"reserve the last", func() error { return repo.Reserve(ctx, "p-stock", 1) }, nil, 0},
				{"release 4", func() error { return repo.Release(ctx, "p-stock", 4) }, nil, 4},
			}
			for _, s := range steps {
				if err := s.do(); !errors.Is(err, s.wantErr) {
					t.Fatalf("%s: got %v; want %v", s.name, err, s.wantErr)
				}
				if p, _ := repo.Get(ctx, "p-stock"); p.Stock() != s.stock {
					t.Fatalf("%s: stock = %d; want %d", s.name, p.Stock(), s.stock)
				}
			}
			for _, qty := range []int64{0, -1} {
				if err := repo.Reserve(ctx, "p-stock", qty); err == nil {
					t.Errorf("Reserve(%d) succeeded; want an error", qty)
				}
			}
		})

		t.Run("List pages by id with opaque cursors", func(t *testing.T) {
			all, _, err := repo.List(ctx, app.ProductQuery{Limit: 100})
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			var want []string
			for _, p := range all {
				want = append(want, p.ID())
			}
			if !slices.IsSorted(want) || len(want) < 5 {
				t.Fatalf("ids %v; want at least 5, sorted", want)
			}
			var got []string
			cursor := ""
			for pages := 0; ; pages++ {
				page, next, err := repo.List(ctx, app.ProductQuery{After: cursor, Limit: 2})
				if err != nil || len(page) > 2 || pages > len(want) {
					t.Fatalf("page %d: %d products, %v", pages, len(page), err)
				}
				for _, p := range page {
					got = append(got, p.ID())
				}
				if next == "" {
					break
				}
				cursor = next
			}
			if !slices.Equal(got, want) {
				t.Errorf("paged ids %v; want %v", got, want)
			}
			if n, err := repo.Count(ctx); err != nil || n != len(want) {
				t.Errorf("Count = %d, %v; want %d", n, err, len(want))
			}
			if _, _, err := repo.List(ctx, app.ProductQuery{After: "%%%"}); !errors.Is(err, ErrBadCursor) {
				t.Errorf("bad cursor: got %v; want ErrBadCursor", err)
			}
		})
	})
}
