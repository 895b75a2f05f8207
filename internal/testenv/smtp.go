package testenv

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// SMTPServer is a real SMTP server for tests: Python's standard-library debugging server, which
// accepts every message and prints it.
type SMTPServer struct {
	URL string // smtp+insecure://127.0.0.1:<port>?from=orders@wolfix.test
	out *Buffer
}

// Received returns everything the server printed so far (every message it accepted).
func (s *SMTPServer) Received() string { return s.out.String() }

// StartSMTP starts an SMTP server on a free loopback port for the test and stops it afterwards.
func StartSMTP(t testing.TB) *SMTPServer {
	t.Helper()
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "python3", "-W", "ignore", "-u", "-m", "smtpd", "-n", "-c", "DebuggingServer",
		"127.0.0.1:"+strconv.Itoa(port))
	out := &Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		Missing(t, "an SMTP server (python3 -m smtpd)", "install python3 (3.11 ships smtpd)", err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			_ = c.Close()
			return &SMTPServer{URL: "smtp+insecure://" + addr + "?from=orders@wolfix.test", out: out}
		}
	}
	Missing(t, "an SMTP server (python3 -m smtpd)", "python3 3.11 ships smtpd", &net.AddrError{Err: "did not listen", Addr: addr})
	return nil
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
