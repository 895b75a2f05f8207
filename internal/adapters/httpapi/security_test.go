package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wolfix/orders/internal/adapters/httpapi"
)

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	h := newHarness(t)
	for _, r := range []request{
		{method: "GET", path: "/api/products"},
		{method: "GET", path: "/api/products/missing"},
		{method: "GET", path: "/nothing-here"},
		{method: "POST", path: "/api/orders"},
		{method: "GET", path: "/healthz"},
	} {
		resp := h.do(r)
		want := map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
			"Referrer-Policy": "same-origin", "Content-Security-Policy": httpapi.ContentSecurityPolicy}
		for name, value := range want {
			if got := resp.header.Get(name); got != value {
				t.Errorf("%s %s: %s = %q; want %q", r.method, r.path, name, got, value)
			}
		}
		if hsts := resp.header.Get("Strict-Transport-Security"); hsts != "" {
			t.Errorf("%s %s over plain HTTP sends HSTS %q", r.method, r.path, hsts)
		}
	}
	for _, directive := range []string{"default-src 'self'", "script-src 'self' https://js.stripe.com",
		"frame-src https://js.stripe.com", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(httpapi.ContentSecurityPolicy, directive) {
			t.Errorf("the CSP lacks %q: %s", directive, httpapi.ContentSecurityPolicy)
		}
	}
}

func TestHSTSOverTLS(t *testing.T) {
	h := newHarness(t)
	srv := httptest.NewTLSServer(h.handler)
	t.Cleanup(srv.Close)
	resp, err := srv.Client().Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if got := resp.Header.Get("Strict-Transport-Security"); got != httpapi.StrictTransportSecurity || !strings.Contains(got, "max-age=31536000") {
		t.Errorf("Strict-Transport-Security over TLS = %q; want %q", got, httpapi.StrictTransportSecurity)
	}
}

// The client address in the logs (and in the rate limits, which read the same c.ClientIP) comes
// from X-Forwarded-For only when the TCP peer is a configured proxy.
func TestClientAddressTrustsOnlyConfiguredProxies(t *testing.T) {
	trusting := newHarness(t, func(c *httpapi.Config) { c.TrustedProxies = []string{"10.0.0.0/8"} })
	untrusting := newHarness(t)
	tests := []struct {
		name   string
		h      *harness
		peer   string
		header string
		want   string
	}{
		{"a trusted proxy names the client", trusting, "10.1.2.3:5000", "203.0.113.7", "203.0.113.7"},
		{"a trusted proxy chain names the first untrusted hop", trusting, "10.1.2.3:5000", "198.51.100.9, 203.0.113.7, 10.9.9.9", "203.0.113.7"},
		{"a spoofed header from an untrusted peer is ignored", trusting, "192.0.2.44:5000", "203.0.113.7", "192.0.2.44"},
		{"with no trusted proxy nobody is believed", untrusting, "10.1.2.3:5000", "203.0.113.7", "10.1.2.3"},
		{"X-Real-IP is never believed", trusting, "10.1.2.3:5000", "", "10.1.2.3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/api/config", nil)
			req.RemoteAddr = tc.peer
			req.Header.Set("X-Real-IP", "198.51.100.77")
			req.Header.Set(httpapi.RequestIDHeader, "client-"+strings.ReplaceAll(tc.name, " ", "-"))
			if tc.header != "" {
				req.Header.Set("X-Forwarded-For", tc.header)
			}
			tc.h.handler.ServeHTTP(httptest.NewRecorder(), req)
			if !tc.h.logged(map[string]any{"msg": "http request", "request_id": req.Header.Get(httpapi.RequestIDHeader), "client": tc.want}) {
				t.Errorf("no access log line with client %s:\n%s", tc.want, tc.h.logs)
			}
		})
	}
}
