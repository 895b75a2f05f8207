package porttest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/catalog"
	"github.com/wolfix/orders/internal/domain/order"
)

func (s storeSuite) products(t *testing.T) {
	ctx := context.Background()
	store := s.store(t)
	repo := store.Products()

	t.Run("every field survives a round trip", func(t *testing.T) {
		want := AddProduct(t, store, "p-round", 42)
		got, err := repo.Get(ctx, "p-round")
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Get = %+v, %v; want %+v", got, err, want)
		}
	})

	t.Run("missing products are not found", func(t *testing.T) {
		if _, err := repo.Get(ctx, "nope"); !errors.Is(err, catalog.ErrNotFound) {
			t.Errorf("Get: got %v; want ErrNotFound", err)
		}
		if _, err := repo.Update(ctx, "nope", func(*catalog.Product) error { return nil }); !errors.Is(err, catalog.ErrNotFound) {
			t.Errorf("Update: got %v; want ErrNotFound", err)
		}
		if err := repo.Reserve(ctx, app.StockLine{ProductID: "nope", Quantity: 1}); !errors.Is(err, catalog.ErrNotFound) {
			t.Errorf("Reserve: got %v; want ErrNotFound", err)
		}
		if err := repo.Release(ctx, "nope", 1); !errors.Is(err, catalog.ErrNotFound) {
			t.Errorf("Release: got %v; want ErrNotFound", err)
		}
	})

	t.Run("GetMany returns only the products that exist", func(t *testing.T) {
		AddProduct(t, store, "p-many-1", 1)
		AddProduct(t, store, "p-many-2", 2)
		got, err := repo.GetMany(ctx, []string{"p-many-1", "p-many-2", "nope"})
		if err != nil || len(got) != 2 || got["p-many-1"].Stock() != 1 || got["p-many-2"].Stock() != 2 {
			t.Errorf("GetMany = %v, %v; want p-many-1 and p-many-2", got, err)
		}
		if none, err := repo.GetMany(ctx, nil); err != nil || len(none) != 0 {
			t.Errorf("GetMany(nil) = %v, %v; want empty", none, err)
		}
	})

	t.Run("Update saves what fn changed and nothing when fn fails", func(t *testing.T) {
		AddProduct(t, store, "p-upd", 5)
		title, stock, later := "Renamed", int64(9), t0.Add(time.Hour)
		updated, err := repo.Update(ctx, "p-upd", func(p *catalog.Product) error {
			return p.Apply(catalog.Patch{Title: &title, Stock: &stock}, later)
		})
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		stored, err := repo.Get(ctx, "p-upd")
		if err != nil || !reflect.DeepEqual(stored, updated) || stored.Title() != title || stored.Stock() != stock {
			t.Fatalf("stored %+v, %v; want %+v", stored, err, updated)
		}
		lost := "Lost"
		_, err = repo.Update(ctx, "p-upd", func(p *catalog.Product) error {
			_ = p.Apply(catalog.Patch{Title: &lost}, later)
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("Update with a failing fn: got %v; want fn's error", err)
		}
		if again, _ := repo.Get(ctx, "p-upd"); again.Title() != title {
			t.Errorf("title = %q after a failed update; want %q", again.Title(), title)
		}
	})

	t.Run("Reserve and Release move stock but never below zero", func(t *testing.T) {
		AddProduct(t, store, "p-stock", 3)
		steps := []struct {
			name    string
			do      func() error
			wantErr error
			stock   int64
		}{
			{"reserve 2", func() error { return repo.Reserve(ctx, app.StockLine{ProductID: "p-stock", Quantity: 2}) }, nil, 1},
			{"reserve 2 of 1", func() error { return repo.Reserve(ctx, app.StockLine{ProductID: "p-stock", Quantity: 2}) }, catalog.ErrOutOfStock, 1},
			{"reserve the last", func() error { return repo.Reserve(ctx, app.StockLine{ProductID: "p-stock", Quantity: 1}) }, nil, 0},
			{"release 4", func() error { return repo.Release(ctx, "p-stock", 4) }, nil, 4},
		}
		for _, step := range steps {
			if err := step.do(); !errors.Is(err, step.wantErr) {
				t.Fatalf("%s: got %v; want %v", step.name, err, step.wantErr)
			}
			if p, _ := repo.Get(ctx, "p-stock"); p.Stock() != step.stock {
				t.Fatalf("%s: stock = %d; want %d", step.name, p.Stock(), step.stock)
			}
		}
		for _, qty := range []int64{0, -1} {
			if err := repo.Reserve(ctx, app.StockLine{ProductID: "p-stock", Quantity: qty}); err == nil {
				t.Errorf("Reserve(%d) succeeded; want an error", qty)
			}
		}
	})

	t.Run("Reserve takes several products at once, or names the one that is short", func(t *testing.T) {
		AddProduct(t, store, "p-many-a", 5)
		AddProduct(t, store, "p-many-b", 1)
		stock := func(id string) int64 {
			t.Helper()
			p, err := repo.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return p.Stock()
		}
		reserve := func(lines ...app.StockLine) error {
			return store.InTx(ctx, func(ctx context.Context, tx app.StoreTx) error { return tx.Products().Reserve(ctx, lines...) })
		}
		a, b := app.StockLine{ProductID: "p-many-a", Quantity: 1}, app.StockLine{ProductID: "p-many-b", Quantity: 2}
		if err := reserve(b, a); !errors.Is(err, catalog.ErrOutOfStock) || !strings.Contains(err.Error(), b.ProductID) {
			t.Errorf("reserving 2 of the 1 left of %s: %v; want out of stock naming it", b.ProductID, err)
		}
		if err := reserve(a, app.StockLine{ProductID: "nope", Quantity: 1}); !errors.Is(err, catalog.ErrNotFound) {
			t.Errorf("reserving a missing product: %v; want not found", err)
		}
		if got := stock(a.ProductID); got != 5 {
			t.Errorf("after the failed reservations %s has %d; want the 5 it had (the transactions rolled back)", a.ProductID, got)
		}
		b.Quantity = 1
		if err := reserve(a, b, a); err != nil || stock(a.ProductID) != 3 || stock(b.ProductID) != 0 {
			t.Errorf("reserving 1+1 of %s and 1 of %s: %v, left %d and %d; want 3 and 0",
				a.ProductID, b.ProductID, err, stock(a.ProductID), stock(b.ProductID))
		}
	})

	t.Run("concurrent reservations of the same products in any order all land, without deadlock", func(t *testing.T) {
		const rounds = 8
		AddProduct(t, store, "p-cross-a", 2*racers*rounds)
		AddProduct(t, store, "p-cross-b", 2*racers*rounds)
		assertNoErrors(t, Parallel(racers, func(i int) error {
			a, b := app.StockLine{ProductID: "p-cross-a", Quantity: 1}, app.StockLine{ProductID: "p-cross-b", Quantity: 1}
			if i%2 == 1 {
				a, b = b, a
			}
			for range rounds {
				err := store.InTx(ctx, func(ctx context.Context, tx app.StoreTx) error { return tx.Products().Reserve(ctx, a, b) })
				if err != nil {
					return err
				}
			}
			return nil
		}))
		for _, id := range []string{"p-cross-a", "p-cross-b"} {
			if p, err := repo.Get(ctx, id); err != nil || p.Stock() != racers*rounds {
				t.Errorf("%s: stock %d, %v; want %d", id, p.Stock(), err, racers*rounds)
			}
		}
	})

	t.Run("List pages by id", func(t *testing.T) {
		all, next, err := repo.List(ctx, app.ProductQuery{Limit: 100})
		if err != nil || next != "" {
			t.Fatalf("List = next %q, %v; want one page", next, err)
		}
		want := productIDs(all)
		if !slices.IsSorted(want) || len(want) < 5 {
			t.Fatalf("ids %v; want at least 5, sorted", want)
		}
		got := productIDs(allPages(t, 2, func(after string) ([]*catalog.Product, string, error) {
			return repo.List(ctx, app.ProductQuery{After: after, Limit: 2})
		}))
		if !slices.Equal(got, want) {
			t.Errorf("paged ids %v; want %v", got, want)
		}
		if n, err := repo.Count(ctx); err != nil || n != len(want) {
			t.Errorf("Count = %d, %v; want %d", n, err, len(want))
		}
		if s.features.BadCursor == nil {
			return
		}
		if _, _, err := repo.List(ctx, app.ProductQuery{After: "%%%", Limit: 2}); !errors.Is(err, s.features.BadCursor) {
			t.Errorf("a cursor the store did not make: got %v; want %v", err, s.features.BadCursor)
		}
	})
}

func (s storeSuite) productRaces(t *testing.T) {
	ctx := context.Background()
	store, committed := s.open(t)

	t.Run("20 orders for the last 5 units: exactly 5 commit, with their events", func(t *testing.T) {
		p := AddProduct(t, store, "p-last", 5)
		orders := make([]*order.Order, racers)
		for i, id := range ids(racers, "o-last") {
			orders[i] = PlaceOrder(t, OrderSpec{ID: id}, p)
		}
		errs := Parallel(racers, func(i int) error {
			return store.InTx(ctx, func(ctx context.Context, tx app.StoreTx) error { return place(ctx, tx, orders[i]) })
		})
		if won := Winners(t, errs, catalog.ErrOutOfStock); won != 5 {
			t.Errorf("%d orders succeeded; want 5", won)
		}
		if p, err := store.Products().Get(ctx, "p-last"); err != nil || p.Stock() != 0 {
			t.Errorf("stock %v, %v; want 0", p.Stock(), err)
		}
		stored := 0
		for _, o := range orders {
			if _, err := store.Orders().Get(ctx, o.ID()); err == nil {
				stored++
			}
		}
		if events := len(committed(t)); stored != 5 || events != 5 {
			t.Errorf("%d orders stored and %d events committed; want 5 of each", stored, events)
		}
	})

	t.Run("concurrent updates are serialized", func(t *testing.T) {
		AddProduct(t, store, "p-counter", 0)
		errs := Parallel(racers, func(int) error {
			_, err := store.Products().Update(ctx, "p-counter", func(p *catalog.Product) error {
				next := p.Stock() + 1
				return p.Apply(catalog.Patch{Stock: &next}, t0)
			})
			return err
		})
		assertNoErrors(t, errs)
		if p, _ := store.Products().Get(ctx, "p-counter"); p.Stock() != racers {
			t.Errorf("stock = %d after %d increments; want %d (lost updates)", p.Stock(), racers, racers)
		}
	})
}

func productIDs(ps []*catalog.Product) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.ID())
	}
	return out
}
