package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/testenv"
)

// A topology of wolfix processes, as deploy/compose.yaml runs them, for the shutdown and scale-out
// tests: `wolfix serve` replicas and `wolfix relay` processes on one database and one broker,
// started from the test binary and stopped with SIGTERM or SIGKILL.

// topology is the configuration the processes of one test share.
type topology struct {
	t   *testing.T
	env []string // every process's environment
}

// newTopology configures processes on Postgres and NATS (a fresh database, a stream and subjects
// of the test's own), or, when postgres is false, on the embedded SQLite default in dataDir.
func newTopology(t *testing.T, postgres bool, extraEnv ...string) *topology {
	t.Helper()
	configFile, err := filepath.Abs(filepath.Join("..", "..", "configs", "wolfix.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	env := append(slices.Clone(os.Environ()), "WOLFIX_CONFIG="+configFile, "WOLFIX_LOG_LEVEL=info",
		"WOLFIX_DATA_DIR="+t.TempDir(), "WOLFIX_JWT_SECRET="+randomHex(32), "WOLFIX_SEED_DEMO=false")
	env = append(env, volumeEnv...)
	if postgres {
		suffix := randomHex(4)
		env = append(env, "WOLFIX_DATABASE_URL="+testenv.PostgresURL(t), "WOLFIX_BROKER_KIND=nats",
			"WOLFIX_NATS_URL="+testenv.NATSURL(t), "WOLFIX_NATS_STREAM=WOLFIX_TEST_"+strings.ToUpper(suffix),
			"WOLFIX_NATS_SUBJECT_PREFIX=wolfixtest"+suffix)
	}
	return &topology{t: t, env: append(env, extraEnv...)}
}

// lookup returns the value of an environment variable of the topology.
func (tp *topology) lookup(name string) string {
	for i := len(tp.env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(tp.env[i], name+"="); ok {
			return v
		}
	}
	return ""
}

// proc is one running wolfix process.
type proc struct {
	t     *testing.T
	name  string
	args  []string
	env   []string
	url   string // where its probes are: the API (serve) or the operations listener (relay)
	logs  *testenv.Buffer
	cmd   *exec.Cmd
	done  chan struct{}
	state *os.ProcessState
}

// serve starts a `wolfix serve` replica with its own address and data dir.
func (tp *topology) serve(name string, extraEnv ...string) *proc {
	addr := freeAddr(tp.t)
	env := append(slices.Clone(tp.env), "WOLFIX_HTTP_ADDR="+addr, "WOLFIX_OPS_ADDR=")
	return tp.start(name, "http://"+addr, append(env, extraEnv...), "serve")
}

// relay starts a `wolfix relay` with its operations listener on a free port.
func (tp *topology) relay(name string, extraEnv ...string) *proc {
	addr := freeAddr(tp.t)
	env := append(slices.Clone(tp.env), "WOLFIX_OPS_ADDR="+addr)
	return tp.start(name, "http://"+addr, append(env, extraEnv...), "relay")
}

func (tp *topology) start(name, url string, env []string, args ...string) *proc {
	tp.t.Helper()
	p := &proc{t: tp.t, name: name, args: args, env: env, url: url, logs: &testenv.Buffer{}}
	p.launch()
	tp.t.Cleanup(func() {
		p.kill9()
		if tp.t.Failed() {
			tp.t.Logf("%s output:\n%s", p.name, p.logs.String())
		}
	})
	p.waitReady(90 * time.Second)
	return p
}

func (p *proc) launch() {
	p.t.Helper()
	p.cmd = exec.Command(wolfixBinary(p.t), p.args...)
	p.cmd.Env, p.cmd.Stdout, p.cmd.Stderr = p.env, p.logs, p.logs
	p.done = make(chan struct{})
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", p.name, err)
	}
	cmd, done := p.cmd, p.done
	go func() { _ = cmd.Wait(); p.state = cmd.ProcessState; close(done) }()
}

// waitReady waits for /readyz to answer 200.
func (p *proc) waitReady(timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			p.t.Fatalf("%s exited before it was ready:\n%s", p.name, p.logs.String())
		default:
		}
		if resp, err := http.Get(p.url + "/readyz"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.t.Fatalf("%s was not ready within %s:\n%s", p.name, timeout, p.logs.String())
}

// restart starts the process again, with the same arguments and environment, and waits for it.
func (p *proc) restart() {
	p.t.Helper()
	p.launch()
	p.waitReady(90 * time.Second)
}

// kill9 kills the process with SIGKILL, as a crash, and waits for it to be gone.
func (p *proc) kill9() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// sigterm asks the process to stop, as an orchestrator does, and returns how long it took to
// exit (at most bound, after which it is killed) and its exit status.
func (p *proc) sigterm(bound time.Duration) (time.Duration, error) {
	start := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(bound):
		p.kill9()
		return time.Since(start), fmt.Errorf("%s still running %s after SIGTERM; killed", p.name, bound)
	}
	took := time.Since(start)
	if !p.state.Success() {
		return took, fmt.Errorf("%s exited with %s", p.name, p.state)
	}
	return took, nil
}

// client is a service view of a serve replica, for the e2e helpers (do, token, newProduct …).
func (p *proc) client() *service {
	return &service{t: p.t, base: p.url, env: p.env, bin: wolfixBinary(p.t), logs: p.logs,
		tokens: map[string]string{}, client: &http.Client{Timeout: 30 * time.Second}}
}

// outcome is how one request of a load run ended.
type outcome int

const (
	answered outcome = iota // an HTTP answer came back
	refused                 // the connection was refused: nothing was sent
	cutOff                  // the connection broke after the request was sent: its fate is unknown
)

// classify sorts a request's transport error.
func classify(err error) outcome {
	switch {
	case err == nil:
		return answered
	case errors.Is(err, syscall.ECONNREFUSED):
		return refused
	}
	return cutOff
}

// counter counts labelled outcomes from several goroutines.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) add(label string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[label]++
}

func (c *counter) get(label string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[label]
}

// withPrefix returns the counts of the labels that start with prefix.
func (c *counter) withPrefix(prefix string) map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for label, n := range c.n {
		if strings.HasPrefix(label, prefix) {
			out[label] = n
		}
	}
	return out
}

func (c *counter) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range c.n {
			if !yield(k) {
				return
			}
		}
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, c.n[k]))
	}
	return strings.Join(parts, " ")
}

// untilCancelled runs fn in workers goroutines until ctx ends and waits for them.
func untilCancelled(ctx context.Context, workers int, fn func(worker int)) (wait func()) {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				fn(w)
			}
		}()
	}
	return wg.Wait
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
