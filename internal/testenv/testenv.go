// Package testenv owns how tests reach the real services of the machine: PostgreSQL, NATS,
// RabbitMQ, Redis and stripe-mock. Each helper returns an address to use, or stops the test when the
// service is missing: under CI=true that is a failure (a missing service must never turn into a
// green run), elsewhere a skip that says how to start the service.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx database/sql driver
)

// Addresses used when the WOLFIX_TEST_* variables are not set.
const (
	DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	DefaultNATSURL     = "nats://127.0.0.1:4222"
	DefaultAMQPURL     = "amqp://guest:guest@127.0.0.1:5672/"
)

// PostgresIdleInTransaction counts the sessions of the current database that sit idle inside a
// transaction; a transaction nobody ends keeps its locks, and the outbox relay's snapshot horizon.
const PostgresIdleInTransaction = `SELECT count(*) FROM pg_stat_activity
	WHERE datname = current_database() AND state LIKE 'idle in transaction%'`

// PostgresTableReads returns the rows of table that tx's connection has read so far by sequential
// scan and fetched by index (pg_stat_xact_user_tables): this transaction's reads, plus any of the
// connection's earlier ones not yet flushed, so a test that must count one statement alone reads
// them before and after it.
func PostgresTableReads(t testing.TB, tx *sql.Tx, table string) (seqRead, idxFetched int64) {
	t.Helper()
	if err := tx.QueryRowContext(context.Background(), `SELECT COALESCE(sum(seq_tup_read), 0), COALESCE(sum(idx_tup_fetch), 0)
		FROM pg_stat_xact_user_tables WHERE relname = $1`, table).Scan(&seqRead, &idxFetched); err != nil {
		t.Fatalf("reads of %s: %v", table, err)
	}
	return seqRead, idxFetched
}

// InCI reports whether the tests run under CI: any non-empty CI variable counts (CI=1 as much as
// CI=true), so a CI system that spells it differently can never turn a missing service into a skip.
func InCI() bool { return os.Getenv("CI") != "" }

// Missing stops the test because a service it needs is not there.
func Missing(t testing.TB, service, how string, err error) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s is required under CI but unavailable: %v (%s)", service, err, how)
	}
	t.Skipf("SKIPPED: %s unavailable: %v — %s (under CI this fails)", service, err, how)
}

// PostgresURL creates a fresh database for the test, drops it when the test ends, and returns its URL.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := env("WOLFIX_TEST_POSTGRES_URL", DefaultPostgresURL)
	admin, err := sql.Open("pgx", base)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = admin.PingContext(ctx)
		cancel()
	}
	if err != nil {
		Missing(t, "PostgreSQL", "start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start", err)
	}
	name := "wolfix_test_" + randomSuffix()
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		_ = admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse WOLFIX_TEST_POSTGRES_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// NATSURL returns the URL of a running NATS server with JetStream.
func NATSURL(t testing.TB) string {
	t.Helper()
	return reachable(t, "NATS", "WOLFIX_TEST_NATS_URL", DefaultNATSURL,
		"start it: start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server")
}

// AMQPURL returns the URL of a running RabbitMQ.
func AMQPURL(t testing.TB) string {
	t.Helper()
	return reachable(t, "RabbitMQ", "WOLFIX_TEST_AMQP_URL", DefaultAMQPURL, "start it: rabbitmq-server -detached")
}

// StripeMockURL returns the URL of a running stripe-mock, from WOLFIX_TEST_STRIPE_MOCK_URL.
func StripeMockURL(t testing.TB) string {
	t.Helper()
	raw := os.Getenv("WOLFIX_TEST_STRIPE_MOCK_URL")
	if raw == "" {
		Missing(t, "stripe-mock", "run .ci/stripe-mock.sh start and export WOLFIX_TEST_STRIPE_MOCK_URL", fmt.Errorf("WOLFIX_TEST_STRIPE_MOCK_URL is not set"))
	}
	return reachable(t, "stripe-mock", "WOLFIX_TEST_STRIPE_MOCK_URL", raw, "run .ci/stripe-mock.sh start")
}

func reachable(t testing.TB, service, variable, fallback, how string) string {
	t.Helper()
	raw := env(variable, fallback)
	u, err := url.Parse(raw)
	if err == nil {
		var c net.Conn
		if c, err = net.DialTimeout("tcp", u.Host, 2*time.Second); err == nil {
			_ = c.Close()
		}
	}
	if err != nil {
		Missing(t, service, how, err)
	}
	return raw
}

// SQLitePath returns a path for a fresh SQLite database file in the test's temp dir.
func SQLitePath(t testing.TB) string {
	t.Helper()
	return t.TempDir() + "/wolfix.db"
}

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func randomSuffix() string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
