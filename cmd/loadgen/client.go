package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"
)

// client sends requests to one wolfix and records each one's latency and outcome.
type client struct {
	base string
	http *http.Client
}

// newClient builds a client whose connections can only reach loopback addresses: the base URL
// was checked already, and the dialer checks again the address it actually connects to, so that
// a name resolving elsewhere, or a redirect, cannot take the load off the machine.
func newClient(base string, timeout time.Duration, conns int) *client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: refuseNonLoopback}
	transport := &http.Transport{
		DialContext:         dialer.DialContext,
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
		Proxy:               nil, // never through a proxy: the target is this machine
	}
	return &client{base: base, http: &http.Client{Transport: transport, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// checkLoopbackURL accepts http(s) URLs whose host is localhost or a loopback IP.
func checkLoopbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("-base: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("-base %q: want an http:// or https:// URL", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-base %q: loadgen only drives a service on this machine (localhost, 127.0.0.0/8 or ::1)", raw)
}

// refuseNonLoopback is the dialer's last word: it runs with the resolved address.
func refuseNonLoopback(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("loadgen refuses to connect to %s: not a loopback address", address)
	}
	return nil
}

// call is one request: the endpoint names it in the report ("GET /api/orders/{id}"), path is
// the real path.
type call struct {
	endpoint    string
	method      string
	path        string
	token       string
	body        any
	ifNoneMatch string // sent as If-None-Match when set
}

// reply is what came back; status 0 means the request failed before a response.
type reply struct {
	status int
	body   []byte
	etag   string
}

// do sends c, records it in rec, and returns the reply. A transport error is recorded and
// returned as an error; an HTTP error status is recorded and returned in the reply.
func (cl *client) do(ctx context.Context, rec *recorder, c call) (reply, error) {
	var body io.Reader = http.NoBody
	if c.body != nil {
		raw, err := json.Marshal(c.body)
		if err != nil {
			return reply{}, err
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, cl.base+c.path, body)
	if err != nil {
		return reply{}, err
	}
	if c.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.ifNoneMatch != "" {
		req.Header.Set("If-None-Match", c.ifNoneMatch)
	}
	start := time.Now()
	resp, err := cl.http.Do(req)
	if err != nil {
		if ctx.Err() != nil { // the run ended while the request was in flight: not the service's fault
			return reply{}, ctx.Err()
		}
		rec.fail(c.endpoint, transportClass(err))
		return reply{}, err
	}
	raw, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	elapsed := time.Since(start)
	if err != nil {
		if ctx.Err() != nil {
			return reply{}, ctx.Err()
		}
		rec.fail(c.endpoint, transportClass(err))
		return reply{}, err
	}
	rec.observe(c.endpoint, elapsed, resp.StatusCode, problemCode(resp.StatusCode, raw))
	return reply{status: resp.StatusCode, body: raw, etag: resp.Header.Get("ETag")}, nil
}

// problemCode returns the stable code of an RFC 9457 problem body, for error statuses.
func problemCode(status int, body []byte) string {
	if status < 400 {
		return ""
	}
	var p struct {
		Code string `json:"code"`
	}
	if json.Unmarshal(body, &p) != nil || p.Code == "" {
		return "-"
	}
	return p.Code
}

// transportClass names a transport failure without its changing details (ports, addresses).
func transportClass(err error) string {
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "transport: timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "transport: connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "transport: connection reset"
	}
	return "transport: other"
}
