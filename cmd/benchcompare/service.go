package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wolfix/orders/internal/loadreport"
)

// binaries are the service and the load generator, built once for the whole run (without -race:
// this measures speed).
type binaries struct {
	dir, wolfix, loadgen string
}

func buildBinaries(ctx context.Context) (binaries, error) {
	dir, err := os.MkdirTemp("", "benchcompare-")
	if err != nil {
		return binaries{}, err
	}
	b := binaries{dir: dir, wolfix: filepath.Join(dir, "wolfix"), loadgen: filepath.Join(dir, "loadgen")}
	for bin, pkg := range map[string]string{b.wolfix: "./cmd/wolfix", b.loadgen: "./cmd/loadgen"} {
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			b.remove()
			return binaries{}, fmt.Errorf("go build %s (run from the repository root): %v\n%s", pkg, err, out)
		}
	}
	return b, nil
}

func (b binaries) remove() { _ = os.RemoveAll(b.dir) }

// serviceFigures are one run's measurements of the service.
type serviceFigures struct {
	modes     map[string]modeFigures
	peakRSSMB float64
	startupMs float64
}

// modeFigures are one workload's figures, from loadgen's JSON and the server's CPU time.
type modeFigures struct {
	OrdersPerSec  float64
	Failures      int
	Create        loadreport.Distribution
	ConfirmToPaid loadreport.Distribution // to the commit that made the order Paid
	// ConfirmToPaidSeen is to loadgen's poll seeing it.
	ConfirmToPaidSeen loadreport.Distribution
	// CPUMsPerOrder counts the server's CPU from loadgen's start of measuring until the events of
	// the load were relayed (EventsBehind, drained in DrainSeconds), so work the load left behind
	// is counted too.
	CPUMsPerOrder float64
	// MachineCPUMsPerOrder is the same span's busy CPU of the whole machine (machineBusyTime): the
	// service's, Postgres's and loadgen's, the figure that decides the orders/s of a saturated box.
	MachineCPUMsPerOrder float64
	// EventsBehind is the outbox backlog (events not relayed yet) as the load ended.
	EventsBehind float64
	DrainSeconds float64
}

// measureService runs `wolfix serve` (in-process relay and consumers, the sandbox) on a fresh
// database of the backend the floor ran on, drives each workload with loadgen, then times a restart.
func measureService(ctx context.Context, db backend, bins binaries, s settings, out io.Writer) (serviceFigures, error) {
	dbEnv, drop, err := db.serviceDatabase(ctx, bins)
	if err != nil {
		return serviceFigures{}, err
	}
	defer drop()
	secret := randomHex(24)
	env := append(append(os.Environ(), dbEnv...), "WOLFIX_JWT_SECRET="+secret, "WOLFIX_SEED_DEMO=false",
		// The load is deliberate: per-customer rate limits and unpaid caps would measure themselves.
		"WOLFIX_RATE_ORDERS=off", "WOLFIX_RATE_SANDBOX_CONFIRM=off", "WOLFIX_UNPAID_ORDERS_MAX=1000",
		"WOLFIX_UNPAID_UNITS_MAX=1000000")
	env = append(env, s.serveEnv...)
	srv, err := startServe(ctx, bins.wolfix, env)
	if err != nil {
		return serviceFigures{}, err
	}
	figures := serviceFigures{modes: map[string]modeFigures{}}
	for _, mode := range s.modes {
		m, err := runLoad(ctx, bins, s, srv, mode, secret)
		if err != nil {
			srv.stop()
			return serviceFigures{}, fmt.Errorf("%s: %w", mode, err)
		}
		fmt.Fprintf(out, "  service %s: %.0f orders/s, %d failures, create p99 %.1f ms, %.2f CPU-ms/order (machine %.2f)\n",
			mode, m.OrdersPerSec, m.Failures, m.Create.P99, m.CPUMsPerOrder, m.MachineCPUMsPerOrder)
		figures.modes[mode] = m
	}
	figures.peakRSSMB = float64(procStatusKB(srv.cmd.Process.Pid, "VmHWM")) / 1024
	srv.stop()
	restart, err := startServe(ctx, bins.wolfix, env)
	if err != nil {
		return serviceFigures{}, fmt.Errorf("restart: %w", err)
	}
	figures.startupMs = float64(restart.readyAfter.Microseconds()) / 1000
	restart.stop()
	return figures, nil
}

// runLoad drives one workload and reads the server's CPU time around it.
// The server's CPU time is read from when loadgen starts measuring (its "loadgen: …" line, after
// it made its products and tokens) to its end.
func runLoad(ctx context.Context, bins binaries, s settings, srv *serveProcess, mode, secret string) (modeFigures, error) {
	cpuBefore, machineBefore := procCPUTime(srv.cmd.Process.Pid), machineBusyTime()
	jsonPath := filepath.Join(bins.dir, "loadgen-"+mode+".json")
	cmd := exec.CommandContext(ctx, bins.loadgen, "-base", srv.base, "-mode", mode,
		"-customers", strconv.Itoa(s.customers), "-duration", s.duration.String(),
		"-products", strconv.Itoa(s.products), "-lines", strconv.Itoa(s.lines),
		"-jwt-secret", secret, "-json", jsonPath)
	var out bytes.Buffer
	started := &lineWatch{prefix: "loadgen: ", seen: func() {
		cpuBefore, machineBefore = procCPUTime(srv.cmd.Process.Pid), machineBusyTime()
	}}
	both := io.MultiWriter(&out, started) // one writer for both: exec then writes from one goroutine
	cmd.Stdout, cmd.Stderr = both, both
	if err := cmd.Run(); err != nil {
		return modeFigures{}, fmt.Errorf("loadgen: %v\n%s", err, out.Bytes())
	}
	behind, drained, err := srv.drainEvents(ctx)
	if err != nil {
		return modeFigures{}, err
	}
	cpu, machine := procCPUTime(srv.cmd.Process.Pid)-cpuBefore, machineBusyTime()-machineBefore
	raw, err := os.ReadFile(jsonPath)
	if err != nil {
		return modeFigures{}, err
	}
	var sum loadreport.Summary
	if err := json.Unmarshal(raw, &sum); err != nil {
		return modeFigures{}, fmt.Errorf("loadgen's JSON: %w", err)
	}
	m := modeFigures{OrdersPerSec: sum.OrdersPerSec, Failures: sum.Failures, EventsBehind: behind,
		DrainSeconds: drained.Seconds()}
	m.Create = sum.Latency["POST /api/orders"]
	if mode == "card-flow" {
		m.Create = sum.Latency["POST /api/orders/with-payment"]
		m.ConfirmToPaid = sum.Spans[loadreport.SpanConfirmToPaid]
		m.ConfirmToPaidSeen = sum.Spans[loadreport.SpanConfirmToPaidSeen]
	}
	if sum.Orders > 0 {
		m.CPUMsPerOrder = float64(cpu.Microseconds()) / 1000 / float64(sum.Orders)
		m.MachineCPUMsPerOrder = float64(machine.Microseconds()) / 1000 / float64(sum.Orders)
	}
	return m, nil
}

// serveProcess is a running `wolfix serve`.
type serveProcess struct {
	cmd        *exec.Cmd
	base       string
	readyAfter time.Duration
}

func startServe(ctx context.Context, bin string, env []string) (*serveProcess, error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "serve")
	cmd.Env = append(env, "WOLFIX_HTTP_ADDR="+addr)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &serveProcess{cmd: cmd, base: "http://" + addr}
	for time.Since(started) < 60*time.Second {
		if resp, err := http.Get(p.base + "/readyz"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				p.readyAfter = time.Since(started)
				return p, nil
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	p.stop()
	return nil, fmt.Errorf("wolfix serve was not ready within 60 s")
}

// drainTimeout bounds how long drainEvents waits for the outbox to empty.
const drainTimeout = 2 * time.Minute

// drainEvents reads the outbox backlog from the server's /metrics as a load ended, then waits
// until it is empty, so the next measurement starts clean; it returns the backlog and the wait.
// (The in-process broker may still hold the last few hundred events then.)
func (p *serveProcess) drainEvents(ctx context.Context) (behind float64, took time.Duration, err error) {
	started := time.Now()
	if behind, err = p.outboxBacklog(ctx); err != nil {
		return 0, 0, err
	}
	for n := behind; n > 0; {
		if time.Since(started) > drainTimeout {
			return 0, 0, fmt.Errorf("the outbox still held %.0f events %s after the load", n, drainTimeout)
		}
		time.Sleep(50 * time.Millisecond)
		if n, err = p.outboxBacklog(ctx); err != nil {
			return 0, 0, err
		}
	}
	return behind, time.Since(started), nil
}

// backlogMetric is the gauge of the events not relayed yet.
const backlogMetric = "wolfix_outbox_backlog "

func (p *serveProcess) outboxBacklog(ctx context.Context) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("read the outbox backlog: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if value, ok := strings.CutPrefix(sc.Text(), backlogMetric); ok {
			return strconv.ParseFloat(value, 64)
		}
	}
	return 0, fmt.Errorf("/metrics has no %s(status %d)", backlogMetric, resp.StatusCode)
}

func (p *serveProcess) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func randomHex(n int) string {
	buf := make([]byte, n)
	_, _ = rand.Read(buf)
	return hex.EncodeToString(buf)
}

// lineWatch calls seen once, when a line written to it starts with prefix.
type lineWatch struct {
	prefix string
	seen   func()
	line   []byte
	done   bool
}

func (w *lineWatch) Write(p []byte) (int, error) {
	for _, c := range p {
		if w.done {
			break
		}
		if c == '\n' {
			w.line = w.line[:0]
			continue
		}
		w.line = append(w.line, c)
		if string(w.line) == w.prefix {
			w.done = true
			w.seen()
		}
	}
	return len(p), nil
}
