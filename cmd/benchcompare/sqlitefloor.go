package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	_ "embed"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the SQLite driver the service uses

	"github.com/wolfix/orders/internal/adapters/sqlstore"
	"github.com/wolfix/orders/internal/app/events"
	"github.com/wolfix/orders/internal/loadreport"
)

//go:embed floor/fill-sqlite.sql
var floorFillSQLite string

// sqliteDSNParams are the pragmas the service opens its SQLite file with: a writer waits for the
// write lock (busy_timeout) that its transaction takes at BEGIN (_txlock=immediate), in WAL mode.
const sqliteDSNParams = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"

// sqliteFloorConns is the floor's pool, the size of the service's own SQLite pool: the clients
// share it, and the one writer at a time waits for the write lock, as in the service (1 or 32
// connections measured within a few percent of it).
const sqliteFloorConns = 8

// The SQLite floor's transaction: the statements of floor/order.sql, run from Go through
// database/sql with prepared statements, since SQLite has no pgbench.
const (
	floorTakeStock = `UPDATE products SET stock = stock - 1, updated_at = ? WHERE id = ? AND stock >= 1 RETURNING price_minor`
	floorAddOrder  = `INSERT INTO orders (id, number, customer_id, status, currency, total_minor, delivery_fee_minor,
		recipient_first_name, recipient_last_name, recipient_phone, recipient_email, delivery_method, delivery_city,
		delivery_street, delivery_house_number, created_at, updated_at)
		VALUES (?, ?, ?, 'Pending', 'USD', ?, 700, 'Olena', 'Koval', '+380501234567', 'olena@example.com', 'courier',
		'Kyiv', 'Khreshchatyk', '22', ?, ?)`
	floorAddItems = `INSERT INTO order_items (order_id, line_no, product_id, title, seller_id, unit_price_minor, quantity)
		VALUES (?, 0, ?, ?, 'floor-seller', ?, 1), (?, 1, ?, ?, 'floor-seller', ?, 1)`
	floorAddPayment = `INSERT INTO payments (id, order_id, method, provider, intent_id, amount_minor, currency, status)
		VALUES (?, ?, 'card', 'sandbox', ?, ?, 'USD', 'Pending')`
	floorAddEvent = `INSERT INTO outbox_messages (uuid, payload, metadata) VALUES (?, ?, ?)`
)

// sqliteBackend measures the embedded default: the floor in Go on a migrated SQLite file, the
// service on a fresh data directory of its own.
type sqliteBackend struct{}

func (sqliteBackend) floorLabel() string { return "floor (Go, database/sql on SQLite, prepared)" }

// serviceDatabase gives serve a fresh data directory, where it creates its SQLite file.
func (sqliteBackend) serviceDatabase(context.Context, binaries) ([]string, func(), error) {
	dir, err := os.MkdirTemp("", "benchcompare-sqlite-")
	if err != nil {
		return nil, nil, err
	}
	return []string{"WOLFIX_DATA_DIR=" + dir}, func() { _ = os.RemoveAll(dir) }, nil
}

// floor runs the floor transaction from s.customers goroutines for s.duration on a fresh file
// migrated by the service's own migrations, and returns its transactions per second and their
// latencies.
func (b sqliteBackend) floor(ctx context.Context, bins binaries, s settings) (floorFigures, error) {
	env, drop, err := b.serviceDatabase(ctx, bins)
	if err != nil {
		return floorFigures{}, err
	}
	defer drop()
	migrate := exec.CommandContext(ctx, bins.wolfix, "migrate", "up")
	migrate.Env = append(os.Environ(), env...)
	if out, err := migrate.CombinedOutput(); err != nil {
		return floorFigures{}, fmt.Errorf("wolfix migrate up: %v\n%s", err, out)
	}
	dir := env[0][len("WOLFIX_DATA_DIR="):]
	db, err := sql.Open("sqlite", filepath.Join(dir, sqlstore.SQLiteFile)+"?"+sqliteDSNParams)
	if err != nil {
		return floorFigures{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(sqliteFloorConns)
	db.SetMaxIdleConns(sqliteFloorConns)
	if _, err := db.ExecContext(ctx, floorFillSQLite); err != nil {
		return floorFigures{}, fmt.Errorf("fill-sqlite.sql: %w", err)
	}
	return runSQLiteFloor(ctx, db, s)
}

func runSQLiteFloor(ctx context.Context, db *sql.DB, s settings) (floorFigures, error) {
	ctx, cancel := context.WithTimeout(ctx, s.duration)
	defer cancel()
	var failed error
	var once sync.Once
	var clients sync.WaitGroup
	latencies := make([][]time.Duration, s.customers) // each client's own, merged at the end
	started := time.Now()
	for client := range s.customers {
		clients.Go(func() {
			for ctx.Err() == nil {
				began := time.Now()
				if err := floorOrderSQLite(ctx, db); err != nil {
					if ctx.Err() == nil {
						once.Do(func() { failed = err; cancel() })
					}
					return
				}
				latencies[client] = append(latencies[client], time.Since(began))
			}
		})
	}
	clients.Wait()
	if failed != nil {
		return floorFigures{}, fmt.Errorf("floor transaction: %w", failed)
	}
	all := slices.Concat(latencies...)
	return floorFigures{tps: float64(len(all)) / time.Since(started).Seconds(), latency: loadreport.DistributionOf(all)}, nil
}

// floorOrderSQLite is one floor transaction: two conditional stock updates in ascending product
// order, the order, its two items, its payment and one outbox row; one commit.
func floorOrderSQLite(ctx context.Context, db *sql.DB) error {
	p1, p2 := twoProducts()
	id, cust, now := randomHex(16), fmt.Sprintf("floor-customer-%d", randomInt(100000)+1), time.Now().UTC()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var price1, price2 int64
	if err := tx.QueryRowContext(ctx, floorTakeStock, now, p1).Scan(&price1); err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, floorTakeStock, now, p2).Scan(&price2); err != nil {
		return err
	}
	total := price1 + price2 + 700
	payload := fmt.Sprintf(`{"id":"%s","type":"%s","orderId":"%s","customerId":"%s","data":{"status":"Pending",`+
		`"paymentStatus":"Pending","total":%d,"currency":"USD","items":[{"productId":"%s","quantity":1},`+
		`{"productId":"%s","quantity":1}]},"occurredAt":"2026-11-30T12:00:00Z"}`,
		randomHex(16), events.TopicOrderCreated, id, cust, total, p1, p2)
	for _, st := range []struct {
		query string
		args  []any
	}{
		{floorAddOrder, []any{id, "WX-" + id, cust, total, now, now}},
		{floorAddItems, []any{id, p1, "Floor " + p1, price1, id, p2, "Floor " + p2, price2}},
		{floorAddPayment, []any{"pay-" + id, id, "pi_" + id, total}},
		{floorAddEvent, []any{randomHex(16), []byte(payload), `{"name":"` + events.TopicOrderCreated + `"}`}},
	} {
		if _, err := tx.ExecContext(ctx, st.query, st.args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// twoProducts picks two different floor products, in ascending order as order.sql does.
func twoProducts() (string, string) {
	a := randomInt(1000) + 1
	b := randomInt(999) + 1
	if b >= a {
		b++
	}
	return fmt.Sprintf("floor-product-%d", min(a, b)), fmt.Sprintf("floor-product-%d", max(a, b))
}

func randomInt(n int64) int64 {
	v, _ := rand.Int(rand.Reader, big.NewInt(n))
	return v.Int64()
}
