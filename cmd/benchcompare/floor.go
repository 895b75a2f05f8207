package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx database/sql driver

	"github.com/wolfix/orders/internal/loadreport"
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
// migrations, and returns its transactions per second and their latencies (pgbench's log of each
// transaction).
func (b postgresBackend) floor(ctx context.Context, bins binaries, s settings) (floorFigures, error) {
	dbURL, drop, err := b.pg.create(ctx, "wolfix_floor")
	if err != nil {
		return floorFigures{}, err
	}
	defer drop()
	migrate := exec.CommandContext(ctx, bins.wolfix, "migrate", "up")
	migrate.Env = append(os.Environ(), "WOLFIX_DATABASE_URL="+dbURL, "WOLFIX_DATA_DIR="+bins.dir)
	if out, err := migrate.CombinedOutput(); err != nil {
		return floorFigures{}, fmt.Errorf("wolfix migrate up: %v\n%s", err, out)
	}
	fill, script := filepath.Join(bins.dir, "fill.sql"), filepath.Join(bins.dir, "order.sql")
	if err := os.WriteFile(fill, []byte(floorFill), 0o600); err != nil {
		return floorFigures{}, err
	}
	if err := os.WriteFile(script, []byte(floorOrder), 0o600); err != nil {
		return floorFigures{}, err
	}
	if out, err := exec.CommandContext(ctx, "psql", "-q", "-v", "ON_ERROR_STOP=1", "-f", fill, dbURL).CombinedOutput(); err != nil {
		return floorFigures{}, fmt.Errorf("psql fill.sql: %v\n%s", err, out)
	}
	logDir, err := os.MkdirTemp(bins.dir, "floor-log-")
	if err != nil {
		return floorFigures{}, err
	}
	defer func() { _ = os.RemoveAll(logDir) }()
	out, err := exec.CommandContext(ctx, "pgbench", "-n", "-f", script, "-M", "prepared",
		"-c", strconv.Itoa(s.customers), "-j", "2", "-T", strconv.Itoa(int(s.duration.Seconds())),
		"-l", "--log-prefix", filepath.Join(logDir, "latency"), dbURL).CombinedOutput()
	if err != nil {
		return floorFigures{}, fmt.Errorf("pgbench: %v\n%s", err, out)
	}
	tps, err := parseTPS(out)
	if err != nil {
		return floorFigures{}, err
	}
	latencies, err := readPgbenchLogs(logDir)
	return floorFigures{tps: tps, latency: loadreport.DistributionOf(latencies)}, err
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

func parseTPS(pgbenchOutput []byte) (float64, error) {
	m := tpsLine.FindSubmatch(pgbenchOutput)
	if m == nil {
		return 0, fmt.Errorf("no tps line in pgbench's output:\n%s", pgbenchOutput)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// readPgbenchLogs reads the latency of every transaction from the per-transaction logs pgbench
// wrote into dir (one file per thread).
func readPgbenchLogs(dir string) ([]time.Duration, error) {
	files, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var all []time.Duration
	for _, f := range files {
		raw, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			return nil, err
		}
		latencies, err := parsePgbenchLog(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name(), err)
		}
		all = append(all, latencies...)
	}
	if len(all) == 0 {
		return nil, errors.New("pgbench logged no transaction")
	}
	return all, nil
}

// parsePgbenchLog reads a pgbench per-transaction log: "client_id transaction_no time script_no
// time_epoch time_us", time being the transaction's latency in microseconds.
func parsePgbenchLog(raw []byte) ([]time.Duration, error) {
	var latencies []time.Duration
	for line := range strings.Lines(string(raw)) {
		fields := strings.Fields(line)
		if len(fields) < 6 {
			return nil, fmt.Errorf("not a pgbench log line: %q", line)
		}
		us, err := strconv.ParseInt(fields[2], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("pgbench log line %q: %w", line, err)
		}
		latencies = append(latencies, time.Duration(us)*time.Microsecond)
	}
	return latencies, nil
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
