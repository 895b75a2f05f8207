package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/auth"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/testenv"
)

// The fault-injection tests (make chaos runs them with a larger budget): the real binary on
// Postgres and NATS under a load of card and cash orders, every POST with an Idempotency-Key and
// every request whose answer was not seen retried with that key; then an audit of what the
// database and the broker hold. WOLFIX_CHAOS_SECONDS (load time) and WOLFIX_CHAOS_KILLS size them.

const (
	chaosShoppers     = 6
	chaosProducts     = 4
	chaosInitialStock = 1_000_000
	chaosSettle       = 60 * time.Second // how long a started checkout, and the audit, may take to settle
)

// TestChaosE2EKill9UnderIdempotentLoad kills `wolfix serve` with SIGKILL at least five times
// mid-load, restarts it each time, then starts it cleanly and audits.
func TestChaosE2EKill9UnderIdempotentLoad(t *testing.T) {
	loadFor, kills := chaosBudget(t)
	pgURL, bus, secret := testenv.PostgresURL(t), newNATSStream(t, testenv.NATSURL(t)), chaosSecret(t)
	p := newChaosProcess(t, chaosEnv(pgURL, bus, secret))
	p.start()
	p.awaitReady()
	l := newChaosLoad(p.base, secret, createChaosProducts(t, p.base, secret))

	ctx, stop := context.WithTimeout(context.Background(), loadFor)
	defer stop()
	loadDone := make(chan struct{})
	go func() { defer close(loadDone); l.run(t, ctx, chaosShoppers, chaosSettle) }()
	killed := 0
	for killed < kills && sleepCtx(ctx, loadFor/time.Duration(kills+1)) {
		p.kill9()
		killed++
		p.start()
		p.awaitReady()
	}
	<-loadDone
	p.stop()
	p.start()
	p.awaitReady()

	a := &chaosAudit{}
	a.add("kill -9 of wolfix serve under load", fmt.Sprintf(">= %d", kills), killed, killed >= kills)
	a.add("checkouts acknowledged", "> 0", len(l.acks), len(l.acks) > 0)
	statuses, _ := l.snapshot()
	a.add("500 answers", 0, statuses["500"], statuses["500"] == 0)
	a.add("checkouts given up (not settled in time)", 0, statuses["gave up (settle time over)"], statuses["gave up (settle time over)"] == 0)
	auditChaos(t, a, l, openOutboxDB(t, pgURL), bus, chaosInitialStock, chaosSettle)
	a.report(t, fmt.Sprintf("kill -9 audit (%s of load, %d shoppers; answers seen: %v)", loadFor, chaosShoppers, statuses))
}

// TestChaosE2EDatabaseOutage cuts the service off from Postgres for 3.5 s mid-load through a
// proxy: every failed request must be a 503 with Retry-After, never a 500; the service must
// recover without a restart, and the audit must be clean.
func TestChaosE2EDatabaseOutage(t *testing.T) {
	loadFor, _ := chaosBudget(t)
	pgURL, bus, secret := testenv.PostgresURL(t), newNATSStream(t, testenv.NATSURL(t)), chaosSecret(t)
	u, err := url.Parse(pgURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := testenv.NewTCPProxy(t, u.Host)
	p := newChaosProcess(t, chaosEnv(proxy.URL(t, pgURL), bus, secret))
	p.start()
	p.awaitReady()
	l := newChaosLoad(p.base, secret, createChaosProducts(t, p.base, secret))

	ctx, stop := context.WithTimeout(context.Background(), max(loadFor, 8*time.Second))
	defer stop()
	loadDone := make(chan struct{})
	go func() { defer close(loadDone); l.run(t, ctx, chaosShoppers, chaosSettle) }()
	sleepCtx(ctx, 2*time.Second)
	before := len(l.ackedSince(time.Time{}))
	proxy.Cut()
	const outage = 3500 * time.Millisecond
	time.Sleep(outage)
	proxy.Restore()
	restoredAt := time.Now()
	<-loadDone

	a := &chaosAudit{}
	statuses, noRetryAfter := l.snapshot()
	a.add("database cut off mid-load", ">= 3 s", outage, true)
	a.add("checkouts acknowledged before the cut", "> 0", before, before > 0)
	a.add("checkouts acknowledged after the restore (no restart)", "> 0", len(l.ackedSince(restoredAt)), len(l.ackedSince(restoredAt)) > 0)
	a.add("503 answers during the outage", "> 0", statuses["503"], statuses["503"] > 0)
	a.add("503 answers without Retry-After", 0, noRetryAfter, noRetryAfter == 0)
	a.add("500 answers", 0, statuses["500"], statuses["500"] == 0)
	a.add("requests with no answer (the process stayed up)", 0, statuses["transport error"], statuses["transport error"] == 0)
	auditChaos(t, a, l, openOutboxDB(t, pgURL), bus, chaosInitialStock, chaosSettle)
	a.report(t, fmt.Sprintf("database outage audit (answers seen: %v)", statuses))
}

// chaosBudget reads the load time and the number of kills: short by default (CI), larger for
// make chaos.
func chaosBudget(t *testing.T) (time.Duration, int) {
	t.Helper()
	seconds, kills := 15, 5
	for name, v := range map[string]*int{"WOLFIX_CHAOS_SECONDS": &seconds, "WOLFIX_CHAOS_KILLS": &kills} {
		if raw := os.Getenv(name); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil || n < 1 || n > 600 {
				t.Fatalf("%s=%q: want a whole number from 1 to 600", name, raw)
			}
			*v = n
		}
	}
	return time.Duration(seconds) * time.Second, kills
}

// chaosEnv configures the binary: Postgres at dbURL, the test's own NATS stream, a fixed JWT
// secret, a quick reconciler, short leases (Idempotency-Key claims and webhook inbox events that a
// killed process left behind are taken over in seconds) and limits a deliberate load does not trip.
func chaosEnv(dbURL string, bus natsStream, secret string) []string {
	return append(append(bus.env(), volumeEnv...), "WOLFIX_DATABASE_URL="+dbURL, "WOLFIX_JWT_SECRET="+secret,
		"WOLFIX_SEED_DEMO=false", "WOLFIX_OPS_ADDR=127.0.0.1:0",
		"WOLFIX_RECONCILE_AFTER=2s", "WOLFIX_RECONCILE_EVERY=1s", "WOLFIX_PAYMENT_TTL=10m",
		"WOLFIX_IDEMPOTENCY_LEASE=2s", "WOLFIX_INBOX_LEASE=5s", "WOLFIX_INBOX_SWEEP_EVERY=1s")
}

func chaosSecret(t *testing.T) string {
	t.Helper()
	return "chaos-" + strings.Repeat(outboxRandomHex(), 4) // ≥ 32 bytes, as HS256 needs
}

// createChaosProducts adds the products the shoppers order, as a seller, with a stock no run
// exhausts.
func createChaosProducts(t *testing.T, base, secret string) []string {
	t.Helper()
	seller, err := auth.Mint(secret, "chaos-seller", []app.Role{app.RoleSeller}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	setup := newChaosLoad(base, secret, nil)
	var ids []string
	for i := range chaosProducts {
		body := fmt.Sprintf(`{"title":"Chaos item %d","price":12.34,"currency":"USD","stock":%d}`, i, chaosInitialStock)
		status, _, raw := setup.send(context.Background(), http.MethodPost, "/api/products", seller, []byte(body))
		var p struct{ ID string }
		if status != http.StatusCreated || json.Unmarshal(raw, &p) != nil || p.ID == "" {
			t.Fatalf("create product: %d %s", status, raw)
		}
		ids = append(ids, p.ID)
	}
	return ids
}

// sleepCtx waits d or until ctx ends; it reports whether the whole d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
