package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runWolfix runs the built binary with env (added to this process's) and returns its combined
// output and exit code.
func runWolfix(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(wolfixBinary(t), args...)
	cmd.Env = append(append(os.Environ(), "WOLFIX_CONFIG="+filepath.Join("..", "..", "configs", "wolfix.yaml")), env...)
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
		{"bad fee", []string{"WOLFIX_DELIVERY_FEE_COURIER=seven"}, []string{"serve"}, "WOLFIX_DELIVERY_FEE_COURIER"},
		{"bad database URL", []string{"WOLFIX_DATABASE_URL=mysql://x"}, []string{"serve"}, "WOLFIX_DATABASE_URL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, code := runWolfix(t, append(c.env, "WOLFIX_DATA_DIR="+dir), c.args...)
			if code != 2 || !strings.Contains(out, c.want) {
				t.Fatalf("got exit %d, output:\n%s\nwant exit 2 mentioning %q", code, out, c.want)
			}
		})
	}
}

func TestCLITokenIsAcceptedByServe(t *testing.T) {
	s := startService(t)
	for _, role := range []string{"customer", "admin"} {
		r := s.do("GET", "/api/orders", s.token("u-"+role, role), nil)
		s.expect(r, 200, "")
	}
	s.expect(s.do("GET", "/api/orders", s.token("u-seller", "seller"), nil), 403, "forbidden")
}
