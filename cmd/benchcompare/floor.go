package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	_ "embed"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx database/sql driver
)

// The floor's SQL: fill.sql sets the starting state, order.sql is the pgbench transaction.
var (
	//go:embed floor/fill.sql
	floorFill string
	//go:embed floor/order.sql
	floorOrder string
)

// admin creates and drops the run's throwaway databases.
type admin struct {
	db   *sql.DB
	base *url.URL
}

func openAdmin(ctx context.Context, raw string) (*admin, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("pgx", raw)
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("postgres at %s: %w", u.Redacted(), err)
	}
	return &admin{db: db, base: u}, nil
}

func (a *admin) close() { _ = a.db.Close() }

// create makes a database with a random name and returns its URL and a function that drops it.
func (a *admin) create(ctx context.Context, prefix string) (string, func(), error) {
	buf := make([]byte, 6)
	_, _ = rand.Read(buf)
	name := prefix + "_" + hex.EncodeToString(buf)
	if _, err := a.db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, err
	}
	u := *a.base
	u.Path = "/" + name
	drop := func() {
		_, _ = a.db.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}
	return u.String(), drop, nil
}

// postgresBackend measures on a Postgres server: the floor with pgbench, each on a throwaway
// database.
type postgresBackend struct{ pg *admin }

func (postgresBackend) floorLabel() string { return "floor (pgbench, prepared)" }

// serviceDatabase creates the service's throwaway database.
func (b postgresBackend) serviceDatabase(ctx context.Context, bins binaries) ([]string, func(), error) {
	dbURL, drop, err := b.pg.create(ctx, "wolfix_bench")
	if err != nil {
		return nil, nil, err
	}
	return []string{"WOLFIX_DATABASE_URL=" + dbURL, "WOLFIX_DATA_DIR=" + bins.dir}, drop, nil
}

// floor runs the floor transaction with pgbench on a fresh database migrated by the service's own
// migrations, and returns its transactions per second.
func (b postgresBackend) floor(ctx context.Context, bins binaries, s settings) (float64, error) {
	dbURL, drop, err := b.pg.create(ctx, "wolfix_floor")
	if err != nil {
		return 0, err
	}
	defer drop()
	migrate := exec.CommandContext(ctx, bins.wolfix, "migrate", "up")
	migrate.Env = append(os.Environ(), "WOLFIX_DATABASE_URL="+dbURL, "WOLFIX_DATA_DIR="+bins.dir)
	if out, err := migrate.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("wolfix migrate up: %v\n%s", err, out)
	}
	fill, script := filepath.Join(bins.dir, "fill.sql"), filepath.Join(bins.dir, "order.sql")
	if err := os.WriteFile(fill, []byte(floorFill), 0o600); err != nil {
		return 0, err
	}
	if err := os.WriteFile(script, []byte(floorOrder), 0o600); err != nil {
		return 0, err
	}
	if out, err := exec.CommandContext(ctx, "psql", "-q", "-v", "ON_ERROR_STOP=1", "-f", fill, dbURL).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("psql fill.sql: %v\n%s", err, out)
	}
	out, err := exec.CommandContext(ctx, "pgbench", "-n", "-f", script, "-M", "prepared",
		"-c", strconv.Itoa(s.customers), "-j", "2", "-T", strconv.Itoa(int(s.duration.Seconds())), dbURL).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %v\n%s", err, out)
	}
	return parseTPS(out)
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

func parseTPS(pgbenchOutput []byte) (float64, error) {
	m := tpsLine.FindSubmatch(pgbenchOutput)
	if m == nil {
		return 0, fmt.Errorf("no tps line in pgbench's output:\n%s", pgbenchOutput)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// requireLoopback refuses a Postgres that is not on this machine: the benchmark's load stays local.
func requireLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("-postgres: %w", err)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-postgres %s: only a loopback Postgres may be loaded", u.Redacted())
	}
	return nil
}
