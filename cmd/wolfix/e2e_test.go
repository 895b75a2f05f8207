package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/httpapi/openapitest"
	"github.com/wolfix/orders/internal/testenv"
)

// The end-to-end tests build the real binary and run `wolfix serve` as a newcomer would, with
// only WOLFIX_HTTP_ADDR and WOLFIX_DATA_DIR set (plus WOLFIX_DATABASE_URL for the Postgres run),
// then walk the seed's payment flow over HTTP.

var buildOnce struct {
	sync.Once
	path string
	err  error
}

func wolfixBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wolfix-e2e")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "wolfix")
		out, err := exec.Command("go", "build", "-race", "-ldflags", "-X main.version="+e2eVersion, "-o", buildOnce.path, ".").CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.path
}

// service is a running `wolfix serve`.
type service struct {
	t      *testing.T
	base   string
	env    []string
	bin    string
	logs   *testenv.Buffer
	tokens map[string]string
	client *http.Client
	// stop interrupts the process and waits for it to exit; the test's cleanup calls it too.
	stop func()
}

func startService(t *testing.T, extraEnv ...string) *service {
	t.Helper()
	bin := wolfixBinary(t)
	addr := freeAddr(t)
	env := append(os.Environ(), "WOLFIX_HTTP_ADDR="+addr, "WOLFIX_DATA_DIR="+t.TempDir(),
		"WOLFIX_CONFIG="+filepath.Join("..", "..", "configs", "wolfix.yaml"), "WOLFIX_LOG_LEVEL=debug",
		// the tests walk the demo catalog on Postgres too; a relay they start listens where it can
		"WOLFIX_SEED_DEMO=true", "WOLFIX_OPS_ADDR=127.0.0.1:0")
	env = append(env, extraEnv...)
	s := &service{t: t, base: "http://" + addr, env: env, bin: bin, logs: &testenv.Buffer{},
		tokens: map[string]string{}, client: &http.Client{Timeout: 10 * time.Second}}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "serve")
	cmd.Env, cmd.Stdout, cmd.Stderr = env, s.logs, s.logs
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start wolfix serve: %v", err)
	}
	s.stop = sync.OnceFunc(func() {
		cancel()
		_ = cmd.Wait()
	})
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("wolfix serve output:\n%s", s.logs.String())
		}
	})
	s.waitHealthy()
	return s
}

func (s *service) waitHealthy() {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(s.base + "/readyz"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("wolfix serve did not become ready; output:\n%s", s.logs.String())
}

// token mints a token with the `wolfix token` command, as the README shows.
func (s *service) token(sub, role string) string {
	key := sub + "/" + role
	if tok, ok := s.tokens[key]; ok {
		return tok
	}
	cmd := exec.Command(s.bin, "token", "--sub", sub, "--role", role)
	cmd.Env = s.env
	out, err := cmd.Output()
	if err != nil {
		s.t.Fatalf("wolfix token: %v", err)
	}
	s.tokens[key] = strings.TrimSpace(string(out))
	return s.tokens[key]
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func (s *service) do(method, path, token string, body any, headers ...string) reply {
	s.t.Helper()
	var rdr io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rdr = strings.NewReader(b)
	case []byte:
		rdr = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rdr = bytes.NewReader(raw)
	}
	status, header, raw, err := s.roundTrip(method, path, token, rdr, headers...)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	r := reply{status: status, header: header, raw: raw}
	if len(raw) > 0 && strings.Contains(header.Get("Content-Type"), "json") {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber() // amounts stay exact decimals
		if err := dec.Decode(&r.body); err != nil {
			s.t.Fatalf("%s %s: answer %d is not the JSON object it claims to be: %v\n%s", method, path, status, err, raw)
		}
	}
	return r
}

// roundTrip performs one request (JSON body when body is not nil, bearer token when set, extra
// headers as name/value pairs) and returns the answer; safe from any goroutine (no t.Fatal).
func (s *service) roundTrip(method, path, token string, body io.Reader, headers ...string) (int, http.Header, []byte, error) {
	req, err := http.NewRequest(method, s.base+path, body)
	if err != nil {
		return 0, nil, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err == nil {
		if nonconforming := openapitest.Check(req, resp.StatusCode, resp.Header, raw); nonconforming != nil {
			s.t.Error(nonconforming) // t.Error is safe from any goroutine
		}
	}
	return resp.StatusCode, resp.Header, raw, err
}

func (s *service) expect(r reply, status int, code string) {
	s.t.Helper()
	if r.status != status {
		s.t.Fatalf("got status %d; want %d; body %s", r.status, status, r.raw)
	}
	if code == "" {
		return
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		s.t.Fatalf("got Content-Type %q; want application/problem+json", ct)
	}
	if got := r.body["code"]; got != code {
		s.t.Fatalf("got code %v; want %q; body %s", got, code, r.raw)
	}
}

// volumeEnv is for tests that place many orders from one address and a few customers on purpose:
// the rate limits and the unpaid-reservation cap would measure themselves instead.
var volumeEnv = []string{"WOLFIX_RATE_ORDERS=off", "WOLFIX_RATE_SANDBOX_CONFIRM=off",
	"WOLFIX_UNPAID_ORDERS_MAX=1000", "WOLFIX_UNPAID_UNITS_MAX=1000000"}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// backends runs a test against the embedded default and against PostgreSQL.
func backends(t *testing.T, test func(t *testing.T, s *service), env ...string) {
	t.Run("sqlite", func(t *testing.T) { test(t, startService(t, env...)) })
	t.Run("postgres", func(t *testing.T) {
		test(t, startService(t, append(env, "WOLFIX_DATABASE_URL="+testenv.PostgresURL(t))...))
	})
}
