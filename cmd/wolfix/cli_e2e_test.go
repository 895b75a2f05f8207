package main

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// e2eVersion is the version the e2e binary is stamped with (-ldflags -X main.version), as
// `make build` stamps releases.
const e2eVersion = "v0.0.0-e2e"

// runWolfix runs the built binary with env (added to this process's) and returns its combined
// output and exit code.
func runWolfix(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	return runWolfixIn(t, "", env, args...)
}

// runWolfixIn is runWolfix in the working directory dir ("" = this one).
func runWolfixIn(t *testing.T, dir string, env []string, args ...string) (string, int) {
	t.Helper()
	configFile, err := filepath.Abs(filepath.Join("..", "..", "configs", "wolfix.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(wolfixBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "WOLFIX_CONFIG="+configFile), env...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	}
	t.Fatalf("run wolfix %v: %v", args, err)
	return "", -1
}

// TestCLIHelpHasNoSideEffects runs `wolfix <command> --help` for every command of the tree the
// binary is built from: each exits 0, lists its flags and the exit codes, and does nothing — the
// configured addresses stay held by this test (a command that tried to serve would fail to bind
// and exit 1), the data dir (where SQLite and the development secret live) never comes to exist,
// and the working directory stays empty.
func TestCLIHelpHasNoSideEffects(t *testing.T) {
	httpAddr, opsAddr := holdAddr(t), holdAddr(t)
	work := t.TempDir()
	dataDir := filepath.Join(t.TempDir(), "data")
	env := []string{"WOLFIX_HTTP_ADDR=" + httpAddr, "WOLFIX_OPS_ADDR=" + opsAddr, "WOLFIX_DATA_DIR=" + dataDir}
	for _, cmd := range allCommands((&cli{}).rootCommand()) {
		path := strings.Fields(cmd.CommandPath())[1:]
		t.Run(cmd.CommandPath()+" --help", func(t *testing.T) {
			out, code := runWolfixIn(t, work, env, append(path, "--help")...)
			if code != exitOK {
				t.Fatalf("exit %d; want 0\n%s", code, out)
			}
			for _, want := range append(flagNames(cmd), "--config", "Exit codes:", "Usage:\n  "+cmd.CommandPath()) {
				if !strings.Contains(out, want) {
					t.Errorf("help does not mention %q:\n%s", want, out)
				}
			}
			if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("help created the data dir %s (stat: %v)", dataDir, err)
			}
			if entries, _ := os.ReadDir(work); len(entries) > 0 {
				t.Fatalf("help created %s in the working directory", entries[0].Name())
			}
		})
	}
}

// allCommands is root and every command below it.
func allCommands(root *cobra.Command) []*cobra.Command {
	all := []*cobra.Command{root}
	for _, sub := range root.Commands() {
		all = append(all, allCommands(sub)...)
	}
	return all
}

// flagNames is "--name" for every visible flag the command defines itself.
func flagNames(cmd *cobra.Command) []string {
	var names []string
	cmd.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			names = append(names, "--"+f.Name)
		}
	})
	return names
}

// holdAddr listens on a loopback port for the rest of the test and returns its address.
func holdAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l.Addr().String()
}

func TestCLIVersionIsTheBuilds(t *testing.T) {
	out, code := runWolfix(t, nil, "--version")
	for _, want := range []string{"wolfix " + e2eVersion + "\n", "commit ", runtime.Version()} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Fatalf("exit %d, output:\n%s\nwant exit 0 mentioning %q", code, out, want)
		}
	}
}

// TestCLIRuntimeFailureExits1: a command that starts and fails (here: its port is taken) exits 1
// and says why.
func TestCLIRuntimeFailureExits1(t *testing.T) {
	env := []string{"WOLFIX_DATA_DIR=" + t.TempDir(), "WOLFIX_HTTP_ADDR=" + holdAddr(t)}
	out, code := runWolfix(t, env, "serve")
	if code != exitFailure || !strings.Contains(out, "WOLFIX_HTTP_ADDR") {
		t.Fatalf("got exit %d, output:\n%s\nwant exit 1 naming WOLFIX_HTTP_ADDR", code, out)
	}
}

func TestCLIMigrateSeedAndStatus(t *testing.T) {
	env := []string{"WOLFIX_DATA_DIR=" + t.TempDir()}
	out, code := runWolfix(t, env, "migrate", "status")
	if code != 0 || !strings.Contains(out, "pending") {
		t.Fatalf("status before up: exit %d\n%s", code, out)
	}
	if out, code = runWolfix(t, env, "migrate", "up"); code != 0 || !strings.Contains(out, "applied 20261124000100_core") {
		t.Fatalf("up: exit %d\n%s", code, out)
	}
	if out, code = runWolfix(t, env, "migrate", "up"); code != 0 || !strings.Contains(out, "nothing applied") {
		t.Fatalf("second up: exit %d\n%s", code, out)
	}
	if out, code = runWolfix(t, env, "seed"); code != 0 || !strings.Contains(out, "added 5 demo products") {
		t.Fatalf("seed: exit %d\n%s", code, out)
	}
	if out, code = runWolfix(t, env, "migrate", "down"); code != 0 || !strings.Contains(out, "rolled back") {
		t.Fatalf("down: exit %d\n%s", code, out)
	}
	if out, code = runWolfix(t, env, "migrate", "status"); code != 0 || strings.Contains(out, "applied (group") {
		t.Fatalf("status after down: exit %d\n%s", code, out)
	}
}

func TestCLIRefusesMistakesWithStatus2(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"unknown command", nil, []string{"fly"}, "unknown command"},
		{"token without role", nil, []string{"token", "--sub", "u1"}, "--role"},
		{"token with unknown role", nil, []string{"token", "--sub", "u1", "--role", "king"}, "unknown role"},
		{"migrate without action", nil, []string{"migrate"}, "up, down, status"},
		{"migrate with unknown action", nil, []string{"migrate", "sideways"}, "up, down, status"},
		{"unknown flag", nil, []string{"serve", "--port", "1"}, "--port"},
		{"--config names a missing file", nil, []string{"--config", filepath.Join(dir, "none.yaml"), "seed"}, "none.yaml"},
		{"--config file is read", nil, []string{"--config", writeConfig(t, "jwksUrl: https://idp.example/jwks\n"),
			"token", "--sub", "u1", "--role", "admin"}, "WOLFIX_JWKS_URL"},
		{"bad fee", []string{"WOLFIX_DELIVERY_FEE_COURIER=seven"}, []string{"serve"}, "WOLFIX_DELIVERY_FEE_COURIER"},
		{"bad database URL", []string{"WOLFIX_DATABASE_URL=mysql://x"}, []string{"serve"}, "WOLFIX_DATABASE_URL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, code := runWolfix(t, append(c.env, "WOLFIX_DATA_DIR="+dir), c.args...)
			if code != exitUsage || !strings.Contains(out, c.want) {
				t.Fatalf("got exit %d, output:\n%s\nwant exit 2 mentioning %q", code, out, c.want)
			}
		})
	}
}

func TestCLITokenIsAcceptedByServe(t *testing.T) {
	s := startService(t)
	if hint := "get a token: " + s.bin + " token --sub"; !strings.Contains(s.logs.String(), hint) {
		t.Errorf("start-up does not hint %q (the binary as started):\n%s", hint, s.logs.String())
	}
	for _, role := range []string{"customer", "admin"} {
		r := s.do("GET", "/api/orders", s.token("u-"+role, role), nil)
		s.expect(r, 200, "")
	}
	s.expect(s.do("GET", "/api/orders", s.token("u-seller", "seller"), nil), 403, "forbidden")
}

// writeConfig writes a config file for one test and returns its path.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "wolfix.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
