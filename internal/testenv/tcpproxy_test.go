package testenv_test

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/testenv"
)

func TestTCPProxyCutsAndRestores(t *testing.T) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = echo.Close() })
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				s := bufio.NewScanner(c)
				for s.Scan() {
					_, _ = c.Write(append(s.Bytes(), '\n'))
				}
			}()
		}
	}()
	proxy := testenv.NewTCPProxy(t, echo.Addr().String())

	open := dialEcho(t, proxy.Addr())
	if !roundTrip(open) {
		t.Fatal("no echo through a live proxy")
	}
	proxy.Cut()
	if roundTrip(open) {
		t.Error("an open connection still echoes after Cut")
	}
	if roundTrip(dialEcho(t, proxy.Addr())) {
		t.Error("a new connection echoes while cut")
	}
	proxy.Restore()
	if !roundTrip(dialEcho(t, proxy.Addr())) {
		t.Error("no echo after Restore")
	}
}

func dialEcho(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func roundTrip(c net.Conn) bool {
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "ping\n"
}
