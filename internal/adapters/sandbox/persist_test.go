package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/uptrace/bun"

	"github.com/wolfix/orders/internal/adapters/sandbox"
	"github.com/wolfix/orders/internal/adapters/sqlstore"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/app/porttest"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/payment"
	"github.com/wolfix/orders/internal/testenv"
)

// The sandbox's intents live in the service's database (sqlstore.SandboxIntents): they survive a
// restart, and every replica over one database sees every intent.

// storedDatabases runs test on a fresh migrated SQLite file and on a fresh Postgres database;
// open returns a new connection pool to that same database each time it is called, as another
// process (a restart, a replica) would have.
func storedDatabases(t *testing.T, test func(t *testing.T, open func() *bun.DB)) {
	for _, d := range []struct {
		name string
		url  func(t *testing.T) string
	}{{"sqlite", func(*testing.T) string { return "" }}, {"postgres", func(t *testing.T) string { return testenv.PostgresURL(t) }}} {
		t.Run(d.name, func(t *testing.T) {
			url, dir := d.url(t), t.TempDir()
			open := func() *bun.DB {
				db, dialect, err := sqlstore.Open(context.Background(), url, dir)
				if err != nil {
					t.Fatalf("open: %v", err)
				}
				t.Cleanup(func() { _ = db.Close() })
				if _, err := sqlstore.Migrate(context.Background(), db, dialect); err != nil {
					t.Fatalf("migrate: %v", err)
				}
				return db
			}
			test(t, open)
		})
	}
}

func storedSandbox(db *bun.DB, events sandbox.EventSink) *sandbox.Gateway {
	return sandbox.New(sandbox.Config{Store: sqlstore.NewSandboxIntents(db), Events: events})
}

func TestStoredIntentsSurviveARestart(t *testing.T) {
	storedDatabases(t, func(t *testing.T, open func() *bun.DB) {
		firstDB := open()
		first := storedSandbox(firstDB, nil)
		req := porttest.NewRequest(t, 5000)
		paid := create(t, first, req)
		confirm(t, first, paid, "4000 0000 0000 9995")
		confirm(t, first, paid, "4242 4242 4242 4242")
		refund(t, first, paid.ID)
		declined := create(t, first, porttest.NewRequest(t, 700))
		confirm(t, first, declined, "4000000000000069")

		second := storedSandbox(open(), nil)
		for _, want := range []string{paid.ID, declined.ID} {
			if got, before := get(t, second, want), get(t, first, want); got != before {
				t.Errorf("after restart %+v; want %+v", got, before)
			}
		}
		if again := create(t, second, req); again.ID != paid.ID {
			t.Errorf("after restart the same payment id made intent %s; want %s", again.ID, paid.ID)
		}
		if _, err := second.Refund(context.Background(), app.RefundRequest{RefundID: paid.ID + "-refund", IntentID: paid.ID}); err != nil {
			t.Errorf("replaying a refund after restart: %v", err)
		}
		confirm(t, second, declined, "4242424242424242")

		var states []string
		if err := firstDB.NewSelect().Table("sandbox_intents").Column("state").Scan(context.Background(), &states); err != nil {
			t.Fatal(err)
		}
		for _, card := range []string{"4242424242424242", "4000000000009995", "4000000000000069"} {
			if strings.Contains(strings.Join(states, "\n"), card) {
				t.Errorf("the stored intents hold card %s", card)
			}
		}
	})
}

// TestReplicasShareIntents is the 404: an intent opened on one replica is confirmed on
// another, whose own sink gets the event; both then read it as paid, and of two replicas
// confirming one intent at once exactly one succeeds.
func TestReplicasShareIntents(t *testing.T) {
	storedDatabases(t, func(t *testing.T, open func() *bun.DB) {
		eventsA, eventsB := &recorder{}, &recorder{}
		a, b := storedSandbox(open(), eventsA), storedSandbox(open(), eventsB)

		in := create(t, a, porttest.NewRequest(t, 2500))
		if got := confirm(t, b, in, "4242424242424242"); got.Status != payment.IntentSucceeded {
			t.Fatalf("confirmed on the other replica: %s; want succeeded", got.Status)
		}
		if got := get(t, a, in.ID); got.Status != payment.IntentSucceeded {
			t.Errorf("the first replica reads %s; want succeeded", got.Status)
		}
		if ev := eventsB.only(t); ev.Type != payment.EventIntentSucceeded || ev.IntentID != in.ID {
			t.Errorf("the confirming replica emitted %s for %s; want %s for %s", ev.Type, ev.IntentID, payment.EventIntentSucceeded, in.ID)
		}
		if n := eventsA.count(); n != 0 {
			t.Errorf("the replica that did not confirm emitted %d events; want 0", n)
		}
		if _, err := a.Refund(context.Background(), app.RefundRequest{RefundID: "r1", IntentID: in.ID}); err != nil {
			t.Errorf("refund on the first replica: %v", err)
		}
		if got := get(t, b, in.ID); got.AmountRefunded != 2500 {
			t.Errorf("the other replica reads %d refunded; want 2500", got.AmountRefunded)
		}

		race := create(t, b, porttest.NewRequest(t, 900))
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, gw := range []*sandbox.Gateway{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = gw.Confirm(context.Background(), race.ID, race.ClientSecret, "4242424242424242")
			}()
		}
		wg.Wait()
		succeeded, refused := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				succeeded++
			case errors.Is(err, sandbox.ErrNotConfirmable):
				refused++
			default:
				t.Errorf("concurrent confirm: %v", err)
			}
		}
		if succeeded != 1 || refused != 1 {
			t.Errorf("two replicas confirming at once: %d succeeded, %d refused; want 1 and 1", succeeded, refused)
		}
	})
}

// TestConcurrentUpdatesOfOneIntentAreNotLost refunds one intent in small parts from two replicas
// at once: every refund must land on the total (an update that overwrote another's would lose
// one), and the one refund too many is refused.
func TestConcurrentUpdatesOfOneIntentAreNotLost(t *testing.T) {
	const parts, part = 8, 100
	storedDatabases(t, func(t *testing.T, open func() *bun.DB) {
		replicas := []*sandbox.Gateway{storedSandbox(open(), nil), storedSandbox(open(), nil)}
		req := porttest.NewRequest(t, parts*part)
		in := create(t, replicas[0], req)
		confirm(t, replicas[0], in, "4242424242424242")
		amount, err := money.New(part, req.Amount.Currency())
		if err != nil {
			t.Fatal(err)
		}
		errs := make([]error, parts+1)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = replicas[i%2].Refund(context.Background(),
					app.RefundRequest{RefundID: fmt.Sprintf("part-%d", i), IntentID: in.ID, Amount: amount})
			})
		}
		wg.Wait()
		refused := 0
		for _, err := range errs {
			switch {
			case errors.Is(err, app.ErrProviderRejected):
				refused++
			case err != nil:
				t.Errorf("refund: %v", err)
			}
		}
		if got := get(t, replicas[1], in.ID); got.AmountRefunded != parts*part || refused != 1 {
			t.Errorf("%d refunds of %d on %d: %d refunded, %d refused; want %d and 1",
				parts+1, part, parts*part, got.AmountRefunded, refused, parts*part)
		}
	})
}

func TestUnreachableStoreIsAProviderOutage(t *testing.T) {
	storedDatabases(t, func(t *testing.T, open func() *bun.DB) {
		db := open()
		gw := storedSandbox(db, nil)
		in := create(t, gw, porttest.NewRequest(t, 1000))
		_ = db.Close()
		if _, err := gw.GetIntent(context.Background(), in.ID); !errors.Is(err, app.ErrProviderUnavailable) {
			t.Errorf("GetIntent on a closed database: %v; want %v", err, app.ErrProviderUnavailable)
		}
		if _, err := gw.Confirm(context.Background(), in.ID, in.ClientSecret, "4242424242424242"); !errors.Is(err, app.ErrProviderUnavailable) {
			t.Errorf("Confirm on a closed database: %v; want %v", err, app.ErrProviderUnavailable)
		}
	})
}

// An intent this process opened or last changed is updated in one statement, a compare-and-swap
// from the state it saw; when another replica changed the intent since, the swap misses, and the
// intent is read and swapped again.
func TestAnIntentUnchangedElsewhereIsUpdatedInOneStatement(t *testing.T) {
	storedDatabases(t, func(t *testing.T, open func() *bun.DB) {
		dbA := open()
		statements := &statementCounter{}
		dbA.AddQueryHook(statements)
		a, b := storedSandbox(dbA, nil), storedSandbox(open(), nil)
		in := create(t, a, porttest.NewRequest(t, 2500))

		statements.reset()
		confirm(t, a, in, "4000 0000 0000 9995") // declined: the intent may be confirmed again
		if n := statements.reset(); n != 1 {
			t.Errorf("confirming the intent this process opened took %d statements; want 1", n)
		}
		confirm(t, b, in, "4000 0000 0000 0069") // another replica's change
		if got := confirm(t, a, in, "4242 4242 4242 4242"); got.Status != payment.IntentSucceeded {
			t.Fatalf("confirmed after another replica's change: %s; want succeeded", got.Status)
		}
		if n := statements.reset(); n != 3 {
			t.Errorf("confirming after another replica's change took %d statements; want 3 (missed swap, read, swap)", n)
		}
		if got := get(t, b, in.ID); got.Status != payment.IntentSucceeded || got.LastErrorCode != "" {
			t.Errorf("the other replica reads %s (last error %q); want succeeded without error", got.Status, got.LastErrorCode)
		}
	})
}

// statementCounter counts the statements bun sends.
type statementCounter struct{ n atomic.Int64 }

func (c *statementCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}
func (c *statementCounter) AfterQuery(context.Context, *bun.QueryEvent) { c.n.Add(1) }

// reset returns the count so far and starts again from zero.
func (c *statementCounter) reset() int64 { return c.n.Swap(0) }
